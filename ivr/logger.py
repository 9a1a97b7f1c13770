"""logger.conf: warnings and errors to the console and to the `messages` log file.

The sandbox and the tests read `messages` to prove a render loads without errors; a
deployment gets the same file under its astlogdir.
"""

from __future__ import annotations

from hotline.config import HotlineConfig
from ivr.asterisk_conf import document, section

MESSAGES_LOG = "messages"
LEVELS = "notice,warning,error"


def render_logger(config: HotlineConfig) -> bytes:
    del config  # the same logging for every hall
    return document("Asterisk logging.", [
        section("general", [("dateformat", "%F %T.%3q")]),
        section("logfiles", [("console", LEVELS), (MESSAGES_LOG, LEVELS)]),
    ])

"""indications.conf: Chinese call-progress tones for the queue's ringing and for errors.

Callers waiting in the queue hear ringback (Queue option r) rather than music on hold: the
PBX ships no hold music, and ringback is what Chinese callers expect while waiting.
"""

from __future__ import annotations

from hotline.config import HotlineConfig
from ivr.asterisk_conf import document, section

COUNTRY = "cn"
# ITU-T E.180 values for China (as in Asterisk's sample indications.conf).
CHINA_TONES = (
    ("description", "China"),
    ("ringcadence", "1000,4000"),
    ("dial", "450"),
    ("busy", "450/350,0/350"),
    ("ring", "450/1000,0/4000"),  # ringback heard while waiting
    ("congestion", "450/700,0/700"),
    ("callwaiting", "450/400,0/4000"),
    ("dialrecall", "450"),
    ("record", "950/400,0/10000"),
    ("info", "450/100,0/100,450/100,0/100,450/100,0/100,450/400,0/400"),
    ("stutter", "450+425"),
)


def render_indications(config: HotlineConfig) -> bytes:
    del config  # same tones for every hall in China
    return document("Call-progress tones.", [
        section("general", [("country", COUNTRY)]),
        section(COUNTRY, list(CHINA_TONES)),
    ])

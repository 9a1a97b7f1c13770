"""Outside numbers: which ones go out through the trunk, and how they are dialled."""

from __future__ import annotations

import re

from hotline.config import HotlineConfig
from ivr.errors import RenderError
from ivr.names import TRUNK_NAME

# Chinese mobiles and landlines with area code (the numbers [expert] number accepts).
OUTSIDE_PATTERNS = ("_1[3-9]XXXXXXXXX", "_0XXXXXXXX.")
SAFE_PREFIX = re.compile(r"^[0-9*#+]*$")


def trunk_prefix(config: HotlineConfig) -> str:
    """[trunk] prefix, checked: it is written into Dial() strings."""
    prefix = config.trunk.prefix if config.trunk else ""
    if not SAFE_PREFIX.match(prefix):
        raise RenderError(f"[trunk] prefix = “{prefix}”：只能包含数字和 * # +")
    return prefix


def trunk_dial(config: HotlineConfig, number: str) -> str:
    """The Dial() target of an outside number (a literal or ${EXTEN})."""
    return f"PJSIP/{trunk_prefix(config)}{number}@{TRUNK_NAME}"

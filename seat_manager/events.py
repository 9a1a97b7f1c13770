"""Reading an AMI event's headers (a Mapping of text as Asterisk sends them), safely.

Shared by every fold of AMI events: the seat board here and, above it, the hall's call model and
counters (telephony may import seat_manager, not the reverse, so the one home is the lower floor).
"""

from __future__ import annotations

from collections.abc import Mapping

Event = Mapping[str, str]
UNKNOWN_CALLER_VALUES = frozenset({"", "<unknown>", "unknown"})


def header(event: Event, key: str) -> str | None:
    """A header's value, or None when absent or not text."""
    value = event.get(key)
    return value if isinstance(value, str) else None


def header_int(event: Event, key: str) -> int | None:
    """A header as an integer, or None when absent or malformed."""
    value = header(event, key)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def caller_value(value: str | None) -> str | None:
    """Caller id text, with Asterisk's placeholders for "nobody" turned into None."""
    if value is None or value.strip() in UNKNOWN_CALLER_VALUES:
        return None
    return value

"""Helpers shared by every pure fold of AMI events: reading headers, handing out frozen views.

The folds are the seat board here and, above it, the hall's call model and counters (telephony
may import seat_manager, not the reverse, so the one home is the lower floor). Headers are a
Mapping of text as Asterisk sends them; malformed or missing ones read as None, never raise.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, TypeVar

Event = Mapping[str, str]
View = TypeVar("View")
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


def view_copier(view: type[View]) -> Callable[[Any], View]:
    """How a fold hands out its mutable record as an immutable view: the view's fields, by name,
    read off the record (which may hold more). One copier per view type, built once: the seat
    board's SeatCall and the call model's ChannelView used to be two hand-written copies of the
    same kind, each to keep in step with its dataclass; this reads the names from the view."""
    names = tuple(field.name for field in fields(view))  # type: ignore[arg-type]
    read = operator.attrgetter(*names)
    if len(names) == 1:
        return lambda record: view(read(record))
    return lambda record: view(*read(record))

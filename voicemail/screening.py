"""What the screening desk (筛选台) shows: the night's messages in working order, and an energy strip.

Pure functions beside the one query: `order_night` sorts (needs-review first, urgent then oldest;
then machine-valid and machine-invalid for spot checks, oldest first) and counts; `energy_strip`
turns samples into a coarse level line for the page to draw with the speech segments on it.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from voicemail.audio_analysis import RATE
from voicemail.models import STATE_INVALID, STATE_NEEDS_REVIEW, STATE_NEW, STATE_VALID, Voicemail

GROUPS = (STATE_NEEDS_REVIEW, STATE_VALID, STATE_INVALID)
STRIP_STEP_S = 0.1
STRIP_FLOOR_DB = -70.0
FULL_SCALE = 32768.0


@dataclass(frozen=True)
class Night:
    groups: dict[str, list[Voicemail]]
    done: int  # decided or confirmed by staff
    total: int


def _key(row: Voicemail) -> tuple[bool, datetime, int]:
    moment = row.call_time or row.registered_at
    return (row.state == STATE_NEEDS_REVIEW and row.priority != "urgent", moment, row.id)


def order_night(rows: Sequence[Voicemail]) -> Night:
    """Group and order triaged messages for the desk; messages not yet triaged are left out."""
    groups: dict[str, list[Voicemail]] = {g: [] for g in GROUPS}
    for row in rows:
        if row.state in groups:
            groups[row.state].append(row)
    for members in groups.values():
        members.sort(key=_key)
    judged = [row for members in groups.values() for row in members]
    return Night(groups, sum(1 for row in judged if row.override_by), len(judged))


def load_night(session: Session, since: datetime, until: datetime) -> Night:
    """The messages left between `since` and `until`, ordered for the desk.

    A message whose metadata the spool could not read has no call time: it counts from when it
    was registered, so the desk shows it (in review, with the spool's reason) rather than nowhere.
    """
    moment = func.coalesce(Voicemail.call_time, Voicemail.registered_at)
    rows = session.scalars(select(Voicemail).where(
        Voicemail.state != STATE_NEW, moment >= since, moment < until)).all()
    return order_night(rows)


def energy_strip(samples: array, step_s: float = STRIP_STEP_S) -> list[float]:
    """Level (dBFS, floored at STRIP_FLOOR_DB) of each `step_s` of the recording."""
    step = max(1, int(step_s * RATE))
    levels = []
    for start in range(0, len(samples), step):
        chunk = samples[start : start + step]
        mean_square = sum(s * s for s in chunk) / len(chunk)
        level = 10 * math.log10(mean_square / FULL_SCALE**2) if mean_square > 0 else STRIP_FLOOR_DB
        levels.append(round(max(STRIP_FLOOR_DB, level), 1))
    return levels

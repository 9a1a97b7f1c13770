"""Pure folds for the reports page: one day's calls per hour against the same weekday of the
last four weeks, and the voicemail funnel. Inputs are hotline.reports.figures' values; no I/O."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from hotline.reports.figures import (
    HOURS_PER_DAY,
    CallBucket,
    ReportPeriod,
    SeatRow,
    VoicemailFigures,
)
from voicemail.models import STATE_INVALID, STATE_NEEDS_REVIEW, STATE_NEW, STATE_VALID

REFERENCE_WEEKS = 4


@dataclass(frozen=True, slots=True)
class Hourly:
    """Queue calls per local hour (0-23), by the hour they arrived (hotline.reports.figures' rule)."""

    received: tuple[float, ...]
    answered: tuple[float, ...]
    abandoned: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Funnel:
    """Voicemails left in the range and what became of them: each stage counts those messages only
    (a callback of an earlier message closed in the range is not in it; /api/stats counts those)."""

    received: int
    pending: int
    invalid: int
    invalid_by_reason: dict[str, int]
    valid: int
    needs_review: int
    called_back: int
    reached: int


def reference_days(day: date) -> tuple[date, ...]:
    """The same weekday in each of the four weeks before `day`, nearest first."""
    return tuple(day - timedelta(weeks=n) for n in range(1, REFERENCE_WEEKS + 1))


def reference_period(day: date, period: ReportPeriod) -> ReportPeriod:
    """The days a call aggregate must cover to hold every reference day."""
    days = reference_days(day)
    return ReportPeriod(min(days), max(days), period.tz)


def hourly(buckets: tuple[CallBucket, ...], tz_period: ReportPeriod, days: tuple[date, ...]) -> Hourly:
    """The mean per local hour over `days` (one day: its own counts) of the buckets given."""
    wanted = set(days)
    sums = [[0] * HOURS_PER_DAY for _ in range(3)]
    for bucket in buckets:
        local = tz_period.local(bucket.start)
        if local.date() in wanted:
            for row, value in zip(sums, (bucket.received, bucket.answered, bucket.abandoned), strict=True):
                row[local.hour] += value
    count = len(wanted) or 1
    received, answered, abandoned = (tuple(round(v / count, 2) for v in row) for row in sums)
    return Hourly(received, answered, abandoned)


def funnel(voicemails: VoicemailFigures) -> Funnel:
    return Funnel(received=voicemails.total, pending=voicemails.count(STATE_NEW),
                  invalid=voicemails.count(STATE_INVALID),
                  invalid_by_reason=dict(voicemails.reasons.get(STATE_INVALID, {})),
                  valid=voicemails.count(STATE_VALID), needs_review=voicemails.count(STATE_NEEDS_REVIEW),
                  called_back=voicemails.called_back, reached=voicemails.reached)


def pause_reasons(seats: Iterable[SeatRow]) -> tuple[str, ...]:
    """The pause reasons of the seats, the longest paused in all first (then by name): the seat
    table's columns, on the page and in its exports, in one order."""
    totals: Counter[str] = Counter()
    for seat in seats:
        totals.update(seat.pause_by_reason)
    return tuple(sorted(totals, key=lambda reason: (-totals[reason], reason)))

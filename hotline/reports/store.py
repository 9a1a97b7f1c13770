"""The store's side of the statistics: the queries feeding the range report and the hall status.

A year of a busy hall is millions of call records, so calls are summed in SQL, per UTC
quarter-hour of arrival and per seat, with the definitions of hotline.reports.figures.aggregate_calls
(tests check that both agree on SQLite and PostgreSQL). Seat changes, voicemails and callbacks
are few and come as rows. Only columns are selected, never ORM objects, and call records are
found through the index on call_records.ended_at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Subquery, and_, case, cast, extract, func, or_, select
from sqlalchemy.orm import Session

from hotline.reports.figures import (
    BUCKET_SECONDS,
    UTC_MAX,
    CallAggregate,
    CallbackRow,
    CallBucket,
    RangeReport,
    ReportPeriod,
    SeatCalls,
    StateChangeRow,
    VoicemailRow,
    build_report,
)
from seat_manager.models import SeatStateChange
from telephony.models import OUTCOME_ABANDONED, OUTCOME_ANSWERED, CallRecord
from voicemail.callbacks.models import Callback
from voicemail.callbacks.rules import State
from voicemail.models import STATES, Voicemail

# A call ends at most this long after it reached the queue: records ending later than the
# period's end by more than this cannot have arrived within it.
CALL_SPAN_MARGIN = timedelta(days=1)
CALLBACK_STATES = tuple(state.value for state in State)


@dataclass(frozen=True, slots=True)
class StoreCounts:
    """What /api/status and /metrics read from the store."""

    voicemails_by_state: dict[str, int]
    callbacks_by_state: dict[str, int]


def _utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC)


def _later(instant: datetime, delta: timedelta) -> datetime:
    """`instant + delta`, or the last instant there is (a report may end on 9999-12-31)."""
    try:
        return instant + delta
    except OverflowError:
        return UTC_MAX


def _epoch_seconds(dialect: str, instant: Any) -> ColumnElement[int]:
    """Whole seconds since 1970 of a stored UTC instant (SQLite keeps it as text)."""
    if dialect == "sqlite":
        return cast(func.strftime("%s", instant), BigInteger)
    return cast(func.floor(extract("epoch", instant)), BigInteger)


def _calls_in(session: Session, period: ReportPeriod, threshold: int, pbx: str | None = None) -> Subquery:
    """One row per call that may have arrived in the period, with its arrival and what it counts."""
    dialect = session.get_bind().dialect.name
    answered = CallRecord.outcome == OUTCOME_ANSWERED
    wait = CallRecord.queue_wait_seconds
    moment = case((CallRecord.outcome == OUTCOME_ABANDONED, CallRecord.ended_at),
                  else_=func.coalesce(CallRecord.started_at, CallRecord.offered_at, CallRecord.ended_at))
    arrival = _epoch_seconds(dialect, moment) - case((wait > 0, wait), else_=0)
    counted_wait = and_(answered, wait.is_not(None), wait >= 0)
    return (select(
        arrival.label("arrival"),
        (arrival // BUCKET_SECONDS).label("bucket"),
        CallRecord.seat_id.label("seat_id"),
        case((or_(CallRecord.outcome == OUTCOME_ABANDONED, and_(answered, CallRecord.queue.is_not(None))), 1),
             else_=0).label("queued"),
        case((answered, 1), else_=0).label("answered"),
        case((CallRecord.outcome == OUTCOME_ABANDONED, 1), else_=0).label("abandoned"),
        case((and_(counted_wait, wait <= threshold), 1), else_=0).label("within"),
        case((counted_wait, wait), else_=0).label("wait"),
        case((counted_wait, 1), else_=0).label("waited"),
        case((and_(answered, CallRecord.talk_seconds > 0), CallRecord.talk_seconds), else_=0).label("talk"))
        .where(CallRecord.outcome.in_((OUTCOME_ANSWERED, OUTCOME_ABANDONED)),
               CallRecord.ended_at >= _utc(period.start),
               CallRecord.ended_at < _utc(_later(period.end, CALL_SPAN_MARGIN)),
               *((CallRecord.pbx == pbx,) if pbx is not None else ()))
        .subquery())


def call_aggregate(session: Session, period: ReportPeriod, threshold: int,
                   pbx: str | None = None) -> CallAggregate:
    """The period's calls summed per quarter-hour of arrival and per seat, by the database;
    `pbx`: only the calls of that PBX's hall."""
    calls = _calls_in(session, period, threshold, pbx)
    arrived = and_(calls.c.arrival >= int(period.start.timestamp()),
                   calls.c.arrival < int(period.end.timestamp()))
    buckets = session.execute(
        select(calls.c.bucket, func.count(), func.sum(calls.c.answered), func.sum(calls.c.abandoned),
               func.sum(calls.c.within), func.sum(calls.c.wait), func.sum(calls.c.waited),
               func.sum(calls.c.talk))
        .where(arrived, calls.c.queued == 1).group_by(calls.c.bucket).order_by(calls.c.bucket))
    seats: dict[str, list[int]] = {}
    for seat_id, queued, n, talk in session.execute(
            select(calls.c.seat_id, calls.c.queued, func.count(), func.sum(calls.c.talk))
            .where(arrived, calls.c.answered == 1, calls.c.seat_id.is_not(None))
            .group_by(calls.c.seat_id, calls.c.queued)):
        figures = seats.setdefault(seat_id, [0, 0, 0, 0])  # answered, talk, other calls, other talk
        offset = 0 if queued else 2
        figures[offset], figures[offset + 1] = int(n), int(talk or 0)
    return CallAggregate(
        buckets=tuple(CallBucket(datetime.fromtimestamp(int(key) * BUCKET_SECONDS, UTC),
                                 *(int(v or 0) for v in values)) for key, *values in buckets),
        seats=tuple(SeatCalls(seat_id, *figures) for seat_id, figures in sorted(seats.items())))


def state_change_rows(session: Session, period: ReportPeriod) -> list[StateChangeRow]:
    """Each seat's last change before the period, then every change within it, in time order."""
    start, end = _utc(period.start), _utc(period.end)
    last_before = (select(func.max(SeatStateChange.id).label("id"))
                   .where(SeatStateChange.at < start)
                   .group_by(SeatStateChange.seat_id).subquery())
    columns = (SeatStateChange.seat_id, SeatStateChange.new_state, SeatStateChange.at,
               SeatStateChange.pause_reason, SeatStateChange.id)
    earlier = session.execute(select(*columns).join(last_before, SeatStateChange.id == last_before.c.id))
    within = session.execute(select(*columns)
                             .where(SeatStateChange.at >= start, SeatStateChange.at < end)
                             .order_by(SeatStateChange.at, SeatStateChange.id))
    return [StateChangeRow(seat_id=r.seat_id, new_state=r.new_state, at=r.at, pause_reason=r.pause_reason)
            for r in [*sorted(earlier, key=lambda r: (r.at, r.id)), *within]]


def _codes(reasons: Any) -> tuple[str, ...]:
    """Reason codes of a stored reasons list ([{"code": ..., "detail": ...}, ...])."""
    if not isinstance(reasons, list):
        return ()
    return tuple(str(r["code"]) for r in reasons if isinstance(r, dict) and r.get("code"))


def voicemail_rows(session: Session, period: ReportPeriod) -> list[VoicemailRow]:
    """Messages left in the period (by call time, else by registration time), with their callback."""
    start, end = _utc(period.start), _utc(period.end)
    query = select(Voicemail.state, Voicemail.call_time, Voicemail.registered_at, Voicemail.triage_reasons,
                   Voicemail.review_reasons, Voicemail.duplicate_of, Voicemail.override_by,
                   Callback.attempts, Callback.resolution).outerjoin(
                       Callback, Callback.voicemail_id == Voicemail.id).where(or_(
                       and_(Voicemail.call_time.is_not(None), Voicemail.call_time >= start,
                            Voicemail.call_time < end),
                       and_(Voicemail.call_time.is_(None), Voicemail.registered_at >= start,
                            Voicemail.registered_at < end)))
    return [VoicemailRow(state=r.state, left_at=r.call_time or r.registered_at,
                         triage_codes=_codes(r.triage_reasons), review_codes=_codes(r.review_reasons),
                         duplicate_of=r.duplicate_of, overridden=r.override_by is not None,
                         callback_attempts=r.attempts or 0, callback_resolution=r.resolution)
            for r in session.execute(query)]


def callback_rows(session: Session, period: ReportPeriod) -> list[CallbackRow]:
    """Callbacks closed in the period."""
    query = select(Callback.resolution, Callback.closed_at).where(
        Callback.state == State.CLOSED.value, Callback.closed_at >= _utc(period.start),
        Callback.closed_at < _utc(period.end))
    return [CallbackRow(resolution=r.resolution, closed_at=r.closed_at) for r in session.execute(query)]


def load_report(session: Session, period: ReportPeriod, service_level_seconds: int, *,
                now: datetime, seat_ids: Sequence[str] = (), pbx: str | None = None) -> RangeReport:
    """The range report of `period` from the store; reads only. With `pbx`: that hall's calls,
    and the pauses of `seat_ids` only (its seats); voicemail and callbacks belong to no hall."""
    changes = state_change_rows(session, period)
    if pbx is not None:
        changes = [row for row in changes if row.seat_id in set(seat_ids)]
    return build_report(period, service_level_seconds,
                        call_aggregate(session, period, service_level_seconds, pbx),
                        changes, voicemail_rows(session, period),
                        callback_rows(session, period), now=now, seat_ids=seat_ids)


def _by_state(session: Session, column: Any, states: Sequence[str]) -> dict[str, int]:
    """One GROUP BY; every known state present, zeros included."""
    counts = {state: 0 for state in states}
    for state, n in session.execute(select(column, func.count()).group_by(column)):
        counts[state] = int(n)
    return counts


def store_counts(session: Session) -> StoreCounts:
    """Voicemails and callbacks by state (today's call figures are the live counters')."""
    return StoreCounts(
        voicemails_by_state=_by_state(session, Voicemail.state, STATES),
        callbacks_by_state=_by_state(session, Callback.state, CALLBACK_STATES),
    )

"""Statistics over any range of local days, folded from stored rows; pure, no database.

The live counters (telephony/live_counters.py) only know today and only while the service runs;
this report is rebuilt from the store, so it covers past days and survives restarts. The key
figures are defined once, in telephony/kpi.py, and both call them: received (answered from the
queue plus abandoned in it), answered within the service level (a queue wait of 0..N s), answer
rate, abandon rate, service level and average speed of answer. What only the report has:

- a call belongs to the local day and hour it arrived: its answer (or abandon) time minus its
  queue wait;
- peak hour: the local hour (0-23) with the most calls received, the earliest on a tie;
- talk time: of answered queue calls; a seat's other calls (direct, callbacks, outgoing) are
  counted apart. A call answered twice through the queue (sent back to it) counts twice;
- pause time: from a seat's change into "paused" until its next change, clipped to the range
  and to `now`; a pause open at a restart runs until the rebuilt board records the seat again;
- voicemails: by the local day they were left, each with the one reason that decided it, and
  what became of its callback: called back (at least one attempt made), the citizen reached;
- callbacks: by the local day they were closed; done = the citizen was reached (resolved or
  transferred to a department), unreachable = every allowed attempt went unanswered.

Calls arrive here already summed per UTC quarter-hour of arrival (`CallBucket`) and per seat
(`SeatCalls`): a year holds millions of calls, so the store sums them in SQL. A local hour and a
local day are whole quarter-hours in every time zone in use, so nothing is lost.
`aggregate_calls` is the same summing over single rows, in Python: it states the definitions
above one call at a time, and the store's tests check that the SQL agrees with it.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotline.reports.errors import InvalidRange, RangeTooLong
from seat_manager.state import SeatState
from telephony import kpi
from telephony.models import OUTCOME_ABANDONED, OUTCOME_ANSWERED
from voicemail.callbacks.rules import Resolution
from voicemail.models import STATE_INVALID, STATE_NEEDS_REVIEW, STATE_VALID, STATES
from voicemail.triage import INVALID_CODES, REVIEW_CODES
from voicemail.triage_service import TRIAGE_FAILED

HOURS_PER_DAY = 24
MAX_RANGE_DAYS = 366
BUCKET_SECONDS = 15 * 60
UTC_MIN = datetime.min.replace(tzinfo=UTC)
UTC_MAX = datetime.max.replace(tzinfo=UTC)
PAUSED = SeatState.PAUSED.value
NO_PAUSE_REASON = "未注明"

# The reason a voicemail is counted under, besides the triage reason codes.
REASON_STAFF_OVERRIDE = "staff_override"
REASON_TRIAGE = "triage"
REASON_UNSPECIFIED = "unspecified"
DECIDED_STATES = (STATE_VALID, STATE_INVALID, STATE_NEEDS_REVIEW)
_REVIEW_DECIDING = frozenset({*(code.value for code in REVIEW_CODES), TRIAGE_FAILED})
_INVALID_DECIDING = frozenset(code.value for code in INVALID_CODES)
_DUPLICATE = "duplicate"

DONE_RESOLUTIONS = frozenset({Resolution.RESOLVED.value, Resolution.TRANSFERRED.value})
RESOLUTIONS = tuple(resolution.value for resolution in Resolution)


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """Local days `first`..`last` inclusive in the hall's timezone.

    `start` and `end` (exclusive) are the local midnights around it, as UTC instants:
    arithmetic between datetimes of one zone ignores daylight saving time, between UTC
    instants it is exact.
    """

    first: date
    last: date
    tz: ZoneInfo
    start: datetime = field(init=False)
    end: datetime = field(init=False)

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise InvalidRange(f"开始日期（{self.first}）晚于结束日期（{self.last}）")
        if self.days > MAX_RANGE_DAYS:
            raise RangeTooLong(f"一份报表最多 {MAX_RANGE_DAYS} 天，所选范围有 {self.days} 天",
                               detail={"days": self.days, "max_days": MAX_RANGE_DAYS})
        object.__setattr__(self, "start", self._midnight(self.first))
        object.__setattr__(self, "end", UTC_MAX if self.last == date.max
                           else self._midnight(self.last + timedelta(days=1)))

    def _midnight(self, day: date) -> datetime:
        """Local midnight as a UTC instant; at the ends of the calendar, the last one there is."""
        try:
            return datetime.combine(day, time.min, tzinfo=self.tz).astimezone(UTC)
        except OverflowError:
            return UTC_MIN if day.year == date.min.year else UTC_MAX

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def each_day(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.tz)

    def holds(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


# ----- stored rows, as the store hands them over ------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallRow:
    """One stored call record (telephony.models.CallRecord)."""

    outcome: str
    queue: str | None
    seat_id: str | None
    started_at: datetime | None
    ended_at: datetime | None
    offered_at: datetime | None = None
    queue_wait_seconds: int | None = None
    talk_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class StateChangeRow:
    """One seat state change (seat_manager.models.SeatStateChange)."""

    seat_id: str
    new_state: str
    at: datetime
    pause_reason: str | None = None


@dataclass(frozen=True, slots=True)
class VoicemailRow:
    """The triage outcome of one voicemail (voicemail.models.Voicemail)."""

    state: str
    left_at: datetime
    triage_codes: tuple[str, ...] = ()
    review_codes: tuple[str, ...] = ()
    duplicate_of: int | None = None
    overridden: bool = False
    callback_attempts: int = 0
    callback_resolution: str | None = None
    """The message's callback, if it has one: attempts made so far, and how it closed."""


@dataclass(frozen=True, slots=True)
class CallbackRow:
    """A closed callback (voicemail.callbacks.models.Callback)."""

    resolution: str | None
    closed_at: datetime


@dataclass(frozen=True, slots=True)
class CallBucket:
    """Queue calls that arrived in one quarter-hour starting at `start` (UTC)."""

    start: datetime
    received: int
    answered: int
    abandoned: int
    answered_within_sl: int
    wait_seconds: int
    waits_counted: int
    talk_seconds: int


@dataclass(frozen=True, slots=True)
class SeatCalls:
    """One seat's answered calls that arrived in the period: from the queue, and the others."""

    seat_id: str
    answered: int
    talk_seconds: int
    other_calls: int
    other_talk_seconds: int


@dataclass(frozen=True, slots=True)
class CallAggregate:
    buckets: tuple[CallBucket, ...]
    seats: tuple[SeatCalls, ...]


# ----- the report ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallFigures(kpi.CallRates):
    received: int
    answered: int
    abandoned: int
    answered_within_sl: int
    wait_seconds: int
    waits_counted: int
    talk_seconds: int
    received_by_hour: tuple[int, ...]

    @property
    def peak_hour(self) -> int | None:
        best = max(self.received_by_hour, default=0)
        return self.received_by_hour.index(best) if best else None

    @property
    def peak_hour_received(self) -> int:
        return max(self.received_by_hour, default=0)


@dataclass(frozen=True, slots=True)
class VoicemailFigures:
    by_state: dict[str, int]
    reasons: dict[str, dict[str, int]]
    """verdict -> reason -> messages, for valid, invalid and needs_review."""
    called_back: int = 0
    """Messages whose citizen was called at least once."""
    reached: int = 0
    """Messages whose citizen was reached (the callback closed resolved or transferred)."""

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    def count(self, state: str) -> int:
        return self.by_state.get(state, 0)


@dataclass(frozen=True, slots=True)
class CallbackFigures:
    by_resolution: dict[str, int]

    @property
    def closed(self) -> int:
        return sum(self.by_resolution.values())

    @property
    def done(self) -> int:
        return sum(n for resolution, n in self.by_resolution.items() if resolution in DONE_RESOLUTIONS)

    @property
    def unreachable(self) -> int:
        return self.by_resolution.get(Resolution.UNREACHABLE.value, 0)


@dataclass(frozen=True, slots=True)
class DayRow:
    day: date
    calls: CallFigures
    voicemails: VoicemailFigures
    callbacks: CallbackFigures


@dataclass(frozen=True, slots=True)
class SeatRow:
    seat_id: str
    answered: int
    talk_seconds: int
    other_calls: int
    other_talk_seconds: int
    pause_seconds: float
    pause_by_reason: dict[str, float]

    @property
    def average_talk_seconds(self) -> float | None:
        return self.talk_seconds / self.answered if self.answered else None


@dataclass(frozen=True, slots=True)
class RangeReport:
    period: ReportPeriod
    service_level_seconds: int
    totals: CallFigures
    days: tuple[DayRow, ...]
    seats: tuple[SeatRow, ...]
    voicemails: VoicemailFigures
    callbacks: CallbackFigures


# ----- folding ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _CallTally:
    received: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within_sl: int = 0
    wait_seconds: int = 0
    waits_counted: int = 0
    talk_seconds: int = 0
    by_hour: list[int] = field(default_factory=lambda: [0] * HOURS_PER_DAY)

    def add(self, bucket: CallBucket, hour: int) -> None:
        self.received += bucket.received
        self.by_hour[hour] += bucket.received
        self.answered += bucket.answered
        self.abandoned += bucket.abandoned
        self.answered_within_sl += bucket.answered_within_sl
        self.wait_seconds += bucket.wait_seconds
        self.waits_counted += bucket.waits_counted
        self.talk_seconds += bucket.talk_seconds

    def freeze(self) -> CallFigures:
        return CallFigures(self.received, self.answered, self.abandoned, self.answered_within_sl,
                           self.wait_seconds, self.waits_counted, self.talk_seconds, tuple(self.by_hour))


@dataclass(slots=True)
class _SeatTally:
    answered: int = 0
    talk_seconds: int = 0
    other_calls: int = 0
    other_talk_seconds: int = 0
    pause_by_reason: Counter[str] = field(default_factory=Counter)


def is_queue_call(row: CallRow) -> bool:
    """Counted as received: abandoned in the queue, or answered from it."""
    return row.outcome == OUTCOME_ABANDONED or (row.outcome == OUTCOME_ANSWERED and row.queue is not None)


def arrival_epoch(row: CallRow) -> int | None:
    """When the caller reached the queue, in whole seconds since the epoch: answer (or abandon)
    time minus the queue wait; None for a call with no time at all."""
    if row.outcome == OUTCOME_ABANDONED:
        moment = row.ended_at
    else:
        moment = row.started_at or row.offered_at or row.ended_at
    if moment is None:
        return None
    return math.floor(moment.timestamp()) - max(0, row.queue_wait_seconds or 0)


@dataclass(slots=True)
class _BucketTally:
    received: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within_sl: int = 0
    wait_seconds: int = 0
    waits_counted: int = 0
    talk_seconds: int = 0

    def add(self, row: CallRow, talk: int, threshold: int) -> None:
        if row.outcome == OUTCOME_ABANDONED:
            self.abandoned += 1
        else:
            self.answered += 1
            self.talk_seconds += talk
            wait = row.queue_wait_seconds
            if wait is not None and wait >= 0:
                self.wait_seconds += wait
                self.waits_counted += 1
            self.answered_within_sl += int(kpi.answered_within(wait, threshold))
        self.received = kpi.received(self.answered, self.abandoned)


def aggregate_calls(rows: Iterable[CallRow], period: ReportPeriod, threshold: int) -> CallAggregate:
    """Sum single calls into buckets and seats: the definitions, one call at a time."""
    start, end = period.start.timestamp(), period.end.timestamp()
    buckets: dict[int, _BucketTally] = {}
    seats: dict[str, list[int]] = {}  # answered, talk, other calls, other talk
    for row in rows:
        if row.outcome not in (OUTCOME_ANSWERED, OUTCOME_ABANDONED):
            continue
        arrived = arrival_epoch(row)
        if arrived is None or not start <= arrived < end:
            continue
        queued = is_queue_call(row)
        talk = max(0, row.talk_seconds or 0) if row.outcome == OUTCOME_ANSWERED else 0
        if row.outcome == OUTCOME_ANSWERED and row.seat_id is not None:
            seat = seats.setdefault(row.seat_id, [0, 0, 0, 0])
            offset = 0 if queued else 2
            seat[offset] += 1
            seat[offset + 1] += talk
        if queued:
            buckets.setdefault(arrived // BUCKET_SECONDS, _BucketTally()).add(row, talk, threshold)
    return CallAggregate(
        buckets=tuple(CallBucket(datetime.fromtimestamp(key * BUCKET_SECONDS, UTC), **asdict(tally))
                      for key, tally in sorted(buckets.items())),
        seats=tuple(SeatCalls(seat_id, *figures) for seat_id, figures in sorted(seats.items())))


def voicemail_reason(row: VoicemailRow) -> str | None:
    """The one reason a message is counted under (None for a message still awaiting triage)."""
    if row.state == STATE_VALID:
        return REASON_STAFF_OVERRIDE if row.overridden else REASON_TRIAGE
    if row.state == STATE_INVALID:
        if row.overridden:
            return REASON_STAFF_OVERRIDE
        if row.duplicate_of is not None:
            return _DUPLICATE
        return next((c for c in row.triage_codes if c in _INVALID_DECIDING), REASON_UNSPECIFIED)
    if row.state == STATE_NEEDS_REVIEW:
        deciding = next((c for c in row.triage_codes if c in _REVIEW_DECIDING), None)
        return deciding or next(iter(row.review_codes), REASON_UNSPECIFIED)
    return None


def _voicemail_figures(rows: Iterable[VoicemailRow]) -> VoicemailFigures:
    by_state: Counter[str] = Counter({state: 0 for state in STATES})
    reasons: dict[str, Counter[str]] = {state: Counter() for state in DECIDED_STATES}
    called_back = reached = 0
    for row in rows:
        by_state[row.state] += 1
        reason = voicemail_reason(row)
        if reason is not None and row.state in reasons:
            reasons[row.state][reason] += 1
        called_back += row.callback_attempts > 0
        reached += row.callback_resolution in DONE_RESOLUTIONS
    return VoicemailFigures(dict(by_state), {state: dict(counts.most_common())
                                             for state, counts in reasons.items()}, called_back, reached)


def _callback_figures(rows: Iterable[CallbackRow]) -> CallbackFigures:
    counts: Counter[str] = Counter({resolution: 0 for resolution in RESOLUTIONS})
    for row in rows:
        counts[row.resolution or REASON_UNSPECIFIED] += 1
    return CallbackFigures(dict(counts))


def _overlap(since: datetime, until: datetime, start: datetime, end: datetime) -> float:
    """Seconds [since, until) and [start, end) share (computed in UTC, see ReportPeriod.start)."""
    return max(0.0, (min(until, end).astimezone(UTC) - max(since, start).astimezone(UTC)).total_seconds())


def fold_pauses(changes: Iterable[StateChangeRow], period: ReportPeriod,
                now: datetime) -> dict[str, Counter[str]]:
    """Seconds paused per seat and reason within the period (and before `now`).

    `changes` in time order; each seat's last change before the period must be among them,
    so that a pause begun the day before is counted from midnight.
    """
    start, end = period.start, min(period.end, now)
    open_since: dict[str, tuple[datetime, str]] = {}
    paused: dict[str, Counter[str]] = defaultdict(Counter)
    for change in changes:
        current = open_since.pop(change.seat_id, None)
        if current is not None:
            since, reason = current
            paused[change.seat_id][reason] += _overlap(since, change.at, start, end)
        if change.new_state == PAUSED:
            open_since[change.seat_id] = (change.at, change.pause_reason or NO_PAUSE_REASON)
    for seat_id, (since, reason) in open_since.items():
        paused[seat_id][reason] += _overlap(since, end, start, end)
    return paused


def build_report(period: ReportPeriod, service_level_seconds: int, calls: CallAggregate,
                 changes: Iterable[StateChangeRow], voicemails: Iterable[VoicemailRow],
                 callbacks: Iterable[CallbackRow], *, now: datetime,
                 seat_ids: Sequence[str] = ()) -> RangeReport:
    """Fold the period's calls and every stored row into the report; rows outside it are ignored.

    `seat_ids` (the configured seats) are listed even when they did nothing.
    """
    totals = _CallTally()
    per_day: dict[date, _CallTally] = {day: _CallTally() for day in period.each_day()}
    for bucket in calls.buckets:
        if period.holds(bucket.start):
            local = period.local(bucket.start)
            totals.add(bucket, local.hour)
            per_day[local.date()].add(bucket, local.hour)

    seats: dict[str, _SeatTally] = {seat_id: _SeatTally() for seat_id in seat_ids}
    for seat_calls in calls.seats:
        tally = seats.get(seat_calls.seat_id)
        if tally is None:
            tally = seats[seat_calls.seat_id] = _SeatTally()
        tally.answered += seat_calls.answered
        tally.talk_seconds += seat_calls.talk_seconds
        tally.other_calls += seat_calls.other_calls
        tally.other_talk_seconds += seat_calls.other_talk_seconds
    for seat_id, reasons in fold_pauses(changes, period, now).items():
        if seat_id in seats or any(seconds > 0 for seconds in reasons.values()):
            seats.setdefault(seat_id, _SeatTally()).pause_by_reason.update(reasons)

    vm_by_day: dict[date, list[VoicemailRow]] = defaultdict(list)
    for vm in voicemails:
        if period.holds(vm.left_at):
            vm_by_day[period.local(vm.left_at).date()].append(vm)
    cb_by_day: dict[date, list[CallbackRow]] = defaultdict(list)
    for cb in callbacks:
        if period.holds(cb.closed_at):
            cb_by_day[period.local(cb.closed_at).date()].append(cb)

    days = tuple(DayRow(day, tally.freeze(), _voicemail_figures(vm_by_day[day]),
                        _callback_figures(cb_by_day[day]))
                 for day, tally in per_day.items())
    return RangeReport(
        period=period,
        service_level_seconds=service_level_seconds,
        totals=totals.freeze(),
        days=days,
        seats=tuple(_seat_row(seat_id, tally) for seat_id, tally in sorted(seats.items())),
        voicemails=_voicemail_figures(vm for rows in vm_by_day.values() for vm in rows),
        callbacks=_callback_figures(cb for rows in cb_by_day.values() for cb in rows),
    )


def _seat_row(seat_id: str, tally: _SeatTally) -> SeatRow:
    by_reason = {reason: round(seconds, 1) for reason, seconds in tally.pause_by_reason.most_common()
                 if seconds > 0}
    return SeatRow(seat_id=seat_id, answered=tally.answered, talk_seconds=tally.talk_seconds,
                   other_calls=tally.other_calls, other_talk_seconds=tally.other_talk_seconds,
                   pause_seconds=round(sum(tally.pause_by_reason.values()), 1), pause_by_reason=by_reason)



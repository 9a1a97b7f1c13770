"""One summary of the hall for /api/status and /metrics: live parts from the Hall, counts from the store.

The live parts (seats, calls, queue, today's counters) are read on the event loop, where the
AMI monitor writes them, so a summary never sees a half-applied event. The store's counts
(voicemails and callbacks by state, today's average speed of answer) come from
`StoreCountsCache`: wall screens poll /api/status at up to 200 requests/s, so the counts are
at most `STORE_COUNTS_TTL_S` (1 s) old and the database sees one GROUP BY per table per second
at most, run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import time as monotonic_time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.config import HotlineConfig
from hotline.reports.store import StoreCounts, store_counts
from seat_manager.state import SeatState
from telephony.live_counters import HallCounters
from telephony.threeway.service import is_expert_leg

if TYPE_CHECKING:
    from telephony.hall import Hall

STORE_COUNTS_TTL_S = 1.0
CACHE_STATE_KEY = "status_store_counts"
LIVE_STATE_KEY = "status_live_summary"
SEAT_STATES = tuple(state.value for state in SeatState)


@dataclass(frozen=True, slots=True)
class SeatsSummary:
    total: int
    by_state: dict[str, int]
    stale_since: datetime | None = None
    """Set while the link to Asterisk is down: the states are as they were then."""


@dataclass(frozen=True, slots=True)
class CallsSummary:
    in_progress: int
    three_way: int


@dataclass(frozen=True, slots=True)
class QueueSummary:
    waiting: int
    longest_wait_seconds: float | None


@dataclass(frozen=True, slots=True)
class TodaySummary:
    day: date
    received: int
    answered: int
    abandoned: int
    answer_rate: float | None
    service_level: float | None
    service_level_seconds: int
    average_speed_of_answer_seconds: float | None
    talk_seconds: int
    answered_within_sl: int = 0
    """Answered within `service_level_seconds`: what adds up over halls (the ratio does not)."""


@dataclass(frozen=True, slots=True)
class HallPart:
    """One PBX's hall in the summary (the summary's own fields are every hall together)."""

    name: str
    display_name: str
    ami_connected: bool
    pbx_uptime_seconds: float | None
    seats: SeatsSummary
    calls: CallsSummary
    queue: QueueSummary
    today: TodaySummary


@dataclass(frozen=True, slots=True)
class HallStatus:
    """The parts from the Hall are None when the service runs without the AMI bridge."""

    generated_at: datetime
    ami_connected: bool
    pbx_uptime_seconds: float | None
    seats: SeatsSummary | None
    calls: CallsSummary | None
    queue: QueueSummary | None
    voicemails_by_state: dict[str, int]
    callbacks_by_state: dict[str, int]
    today: TodaySummary | None
    halls: tuple[HallPart, ...] = ()

    @property
    def bridge_running(self) -> bool:
        return self.seats is not None


class StoreCountsCache:
    """The store's counts, refreshed at most once per TTL and one refresh at a time."""

    def __init__(self, sessions: sessionmaker[Session], ttl: float = STORE_COUNTS_TTL_S,
                 clock: Callable[[], float] = monotonic_time.monotonic) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._clock = clock
        self._lock = asyncio.Lock()
        self._value: StoreCounts | None = None
        self._key: datetime | None = None
        self._fetched = 0.0
        self.refreshes = 0

    def _fresh(self, today_start: datetime) -> StoreCounts | None:
        if self._value is not None and self._key == today_start \
                and self._clock() - self._fetched < self._ttl:
            return self._value
        return None

    def _load(self) -> StoreCounts:
        with self._sessions() as session:
            return store_counts(session)

    async def get(self, today_start: datetime) -> StoreCounts:
        """Counts at most TTL old, and fetched afresh when a new day starts (`today_start`)."""
        cached = self._fresh(today_start)
        if cached is not None:
            return cached
        async with self._lock:
            cached = self._fresh(today_start)  # another request refreshed while we waited
            if cached is not None:
                return cached
            value = await asyncio.to_thread(self._load)
            self._value, self._key, self._fetched = value, today_start, self._clock()
            self.refreshes += 1
            return value


def counts_cache(state: Any) -> StoreCountsCache:
    """The app's cache (made on first use and kept on app.state)."""
    cache = getattr(state, CACHE_STATE_KEY, None)
    if cache is None:
        cache = StoreCountsCache(state.sessionmaker)
        setattr(state, CACHE_STATE_KEY, cache)
    return cache


class LiveSummaryCache:
    """The seats and calls summaries, rebuilt only when the board moved (SeatBoard.version).

    Why: building 50 seat views and every call's view was 40% of the process under the wall
    screens' polling (bench/api_load.py), though the picture changes a few times a second.
    """

    def __init__(self) -> None:
        self._cached: dict[int, tuple[int, tuple[SeatsSummary, CallsSummary]]] = {}
        self.builds = 0

    def get(self, hall: Hall) -> tuple[SeatsSummary, CallsSummary]:
        """One hall's summaries (a cache entry per hall's board)."""
        version = hall.board.version
        cached = self._cached.get(id(hall.board))
        if cached is None or cached[0] != version:
            cached = (version, (_seats(hall), _calls(hall)))
            self._cached[id(hall.board)] = cached
            self.builds += 1
        return cached[1]


def live_cache(state: Any) -> LiveSummaryCache:
    """The app's live summary cache (made on first use and kept on app.state)."""
    cache = getattr(state, LIVE_STATE_KEY, None)
    if cache is None:
        cache = LiveSummaryCache()
        setattr(state, LIVE_STATE_KEY, cache)
    return cache


def _seats(hall: Hall) -> SeatsSummary:
    by_state = dict.fromkeys(SEAT_STATES, 0)
    seats = hall.board.seats()
    for seat in seats:
        by_state[seat.state.value] += 1
    return SeatsSummary(total=len(seats), by_state=by_state, stale_since=hall.board.stale_since)


def _calls(hall: Hall) -> CallsSummary:
    """Citizens' calls: an expert's leg of a three-way call is part of the citizen's call."""
    calls = [c for c in hall.calls.calls() if not is_expert_leg(c.linkedid)]
    return CallsSummary(in_progress=len(calls), three_way=sum(1 for c in calls if c.three_way))


def _queue(hall: Hall, now: datetime) -> QueueSummary:
    waiting = hall.calls.queue()
    longest = max((c.waited(now).total_seconds() for c in waiting), default=None)
    return QueueSummary(waiting=len(waiting),
                        longest_wait_seconds=round(max(0.0, longest), 1) if longest is not None else None)


def _today(hall: Hall, now: datetime, threshold: int) -> TodaySummary:
    """Today's live counters; before the first event of a new day they are zero (read only:
    rolling the counters over is the monitor's job)."""
    figures = hall.stats.today(now)
    if figures.day != now.date():
        return TodaySummary(day=now.date(), received=0, answered=0, abandoned=0, answer_rate=None,
                            service_level=None, service_level_seconds=threshold,
                            average_speed_of_answer_seconds=None, talk_seconds=0)
    h = figures.hall
    return TodaySummary(day=now.date(), received=h.received, answered=h.answered, abandoned=h.abandoned,
                        answer_rate=h.answer_rate, service_level=h.service_level,
                        service_level_seconds=figures.service_level_seconds,
                        average_speed_of_answer_seconds=h.average_speed_of_answer,
                        talk_seconds=h.talk_seconds, answered_within_sl=h.answered_within_sl)


def local_midnight(now: datetime) -> datetime:
    return datetime.combine(now.date(), time.min, tzinfo=now.tzinfo)


async def hall_status(config: HotlineConfig, hall: Hall | None, ami_status: Any,
                      cache: StoreCountsCache, live: LiveSummaryCache | None = None,
                      halls: Sequence[Hall] = ()) -> HallStatus:
    """The summary of every hall together, with each hall's part; call it on the event loop
    (where the Halls are written). `hall` alone: a service with one PBX."""
    every = list(halls) or ([hall] if hall is not None else [])
    now = every[0].now() if every else datetime.now(config.hall.tz)
    counts = await cache.get(local_midnight(now))
    threshold = config.queue.service_level_seconds
    if not every:
        return HallStatus(generated_at=now, ami_connected=bool(getattr(ami_status, "connected", False)),
                          pbx_uptime_seconds=getattr(ami_status, "pbx_uptime_seconds", None), seats=None,
                          calls=None, queue=None, voicemails_by_state=counts.voicemails_by_state,
                          callbacks_by_state=counts.callbacks_by_state, today=None)
    now = every[0].now()  # read the live parts after the await, all at one instant
    parts = tuple(_part(h, now, live, threshold) for h in every)
    one = len(parts) == 1
    return HallStatus(
        generated_at=now,
        ami_connected=bool(getattr(ami_status, "connected", False)) if one
        else all(p.ami_connected for p in parts),
        pbx_uptime_seconds=getattr(ami_status, "pbx_uptime_seconds", None) if one else None,
        seats=parts[0].seats if one else _seats_total([p.seats for p in parts]),
        calls=parts[0].calls if one else CallsSummary(sum(p.calls.in_progress for p in parts),
                                                      sum(p.calls.three_way for p in parts)),
        queue=parts[0].queue if one else _queue_total([p.queue for p in parts]),
        voicemails_by_state=counts.voicemails_by_state,
        callbacks_by_state=counts.callbacks_by_state,
        today=parts[0].today if one else _today_total(every, now, threshold),
        halls=parts,
    )


def _part(hall: Hall, now: datetime, live: LiveSummaryCache | None, threshold: int) -> HallPart:
    seats, calls = live.get(hall) if live is not None else (_seats(hall), _calls(hall))
    return HallPart(name=hall.pbx, display_name=hall.display_name, ami_connected=hall.connected,
                    pbx_uptime_seconds=hall.pbx_uptime_seconds, seats=seats, calls=calls,
                    queue=_queue(hall, now), today=_today(hall, now, threshold))


def _seats_total(parts: list[SeatsSummary]) -> SeatsSummary:
    """Every hall's seats counted together; stale since the earliest hall went stale."""
    by_state = {state: sum(p.by_state[state] for p in parts) for state in SEAT_STATES}
    stale = [p.stale_since for p in parts if p.stale_since is not None]
    return SeatsSummary(total=sum(p.total for p in parts), by_state=by_state,
                        stale_since=min(stale) if stale else None)


def _queue_total(parts: list[QueueSummary]) -> QueueSummary:
    longest = [p.longest_wait_seconds for p in parts if p.longest_wait_seconds is not None]
    return QueueSummary(waiting=sum(p.waiting for p in parts),
                        longest_wait_seconds=max(longest) if longest else None)


def _today_total(halls: list[Hall], now: datetime, threshold: int) -> TodaySummary:
    """Today's counters of every hall added up; the rates from the sums, not averaged."""
    todays = [f.hall for f in (h.stats.today(now) for h in halls) if f.day == now.date()]
    total = HallCounters(*(sum(getattr(c, name) for c in todays) for name in HallCounters.__slots__))
    return TodaySummary(day=now.date(), received=total.received, answered=total.answered,
                        abandoned=total.abandoned, answer_rate=total.answer_rate,
                        service_level=total.service_level, service_level_seconds=threshold,
                        average_speed_of_answer_seconds=total.average_speed_of_answer,
                        talk_seconds=total.talk_seconds, answered_within_sl=total.answered_within_sl)

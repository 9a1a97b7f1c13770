"""Today's live counters for the hall and for each seat, folded from AMI queue events.

Pure: `apply(event, now)` with a tz-aware `now` in the hall's timezone; the calendar day of
`now` is the statistics day, and the first event (or `tick`) of a new day closes the old day and
hands back its final figures. `to_dict()` / `HallStats.from_dict()` give a JSON-ready snapshot
so the service can persist the counters and carry on after a restart.

The key figures (received, answer rate, service level, abandon rate, average speed of answer)
are defined once in telephony/kpi.py, which the range report calls too. Counted here:
- joined: distinct callers joining a queue (QueueCallerJoin), whatever became of them;
- answered: distinct callers connected to an operator (AgentConnect), with their HoldTime as
  the queue wait; abandoned: QueueCallerAbandon; missed: AgentRingNoAnswer (an operator let it
  ring out);
- talk time: AgentComplete TalkTime (else connect -> complete), counted when the call completes;
- pause time: from pause to unpause (or removal) per seat, split at midnight.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from seat_manager.fold import header, header_int
from telephony import kpi
from telephony.kpi import DEFAULT_SERVICE_LEVEL_SECONDS

SNAPSHOT_VERSION = 1
FLAG_TRUE = "1"
MEMBER_EVENTS = frozenset(
    {"QueueMemberAdded", "QueueMemberStatus", "QueueMemberPause", "QueueMemberPenalty", "QueueMember"}
)

Event = Mapping[str, str]
SeatResolver = Callable[[str, str], str | None]
"""(MemberName, Interface) -> seat id, or None for members that are not seats."""


def member_name_as_seat(member_name: str, interface: str) -> str | None:
    """Default resolver: the project names queue members after their seat id."""
    return member_name or interface or None


@dataclass(frozen=True, slots=True)
class HallCounters(kpi.CallRates):
    """The hall's figures for one day; the key figures as telephony/kpi.py defines them."""

    joined: int
    answered: int
    abandoned: int
    answered_within_sl: int
    missed: int
    talk_seconds: int
    wait_seconds: int = 0
    waits_counted: int = 0

    @property
    def received(self) -> int:
        return kpi.received(self.answered, self.abandoned)


@dataclass(frozen=True, slots=True)
class SeatCounters:
    """One seat's figures for one day."""

    seat_id: str
    offered: int
    answered: int
    missed: int
    talk_seconds: int
    pause_seconds: float


@dataclass(frozen=True, slots=True)
class DayStats:
    """A day's figures; `seats` lists every seat that did anything that day."""

    day: date | None
    service_level_seconds: int
    hall: HallCounters
    seats: tuple[SeatCounters, ...]

    def seat(self, seat_id: str) -> SeatCounters | None:
        """One seat's counters."""
        return next((s for s in self.seats if s.seat_id == seat_id), None)


@dataclass(slots=True)
class _Hall:
    joined: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_within_sl: int = 0
    missed: int = 0
    talk_seconds: int = 0
    wait_seconds: int = 0
    waits_counted: int = 0


@dataclass(slots=True)
class _Seat:
    offered: int = 0
    answered: int = 0
    missed: int = 0
    talk_seconds: int = 0
    pause_seconds: float = 0.0


@dataclass(slots=True)
class _Pause:
    since: datetime
    queues: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Snapshot:
    queues_listed: set[str] = field(default_factory=set)
    paused_seen: set[tuple[str, str]] = field(default_factory=set)


def _start_of(day: date, like: datetime) -> datetime:
    """Midnight opening `day`, in the timezone of `like`."""
    return datetime.combine(day, time.min, tzinfo=like.tzinfo)


class HallStats:
    """Daily counters for the hall and per seat; pure, persisted through `to_dict`."""

    def __init__(
        self,
        service_level_seconds: int = DEFAULT_SERVICE_LEVEL_SECONDS,
        seat_of: SeatResolver | None = None,
    ) -> None:
        self._threshold = service_level_seconds
        self._seat_of = seat_of or member_name_as_seat
        self._day: date | None = None
        self._hall = _Hall()
        self._seats: dict[str, _Seat] = {}
        self._received: set[str] = set()
        self._answered: set[str] = set()
        self._abandoned: set[str] = set()
        self._joined: dict[str, datetime] = {}
        self._talking: dict[str, tuple[str | None, datetime]] = {}
        self._paused: dict[str, _Pause] = {}
        self._snapshot: _Snapshot | None = None
        self._handlers: dict[str, Callable[[Event, datetime], None]] = {
            "QueueCallerJoin": self._on_join,
            "QueueCallerAbandon": self._on_abandon,
            "AgentCalled": self._on_called,
            "AgentRingNoAnswer": self._on_ring_no_answer,
            "AgentConnect": self._on_connect,
            "AgentComplete": self._on_complete,
            "QueueMemberRemoved": self._on_member_removed,
            "QueueParams": self._on_queue_params,
            "Hangup": self._on_hangup,
        }
        for name in MEMBER_EVENTS:
            self._handlers[name] = self._on_member

    # ----- feeding ----------------------------------------------------------------------------

    def apply(self, event: Event, now: datetime) -> DayStats | None:
        """Count one AMI event; returns the previous day's final figures if `now` began a new day."""
        closed = self.tick(now)
        name = header(event, "Event")
        handler = self._handlers.get(name) if name else None
        if handler is not None:
            handler(event, now)
        return closed

    def tick(self, now: datetime) -> DayStats | None:
        """Roll over to `now`'s day if it is a new one; returns the closed day's figures then."""
        if now.tzinfo is None:
            raise ValueError("HallStats needs a timezone-aware `now` (the hall's timezone)")
        today = now.date()
        if self._day is None:
            self._day = today
            return None
        if today <= self._day:
            return None
        return self._roll_over(today, now)

    def begin_snapshot(self) -> None:
        """A resync starts: QueueStatus will list every member's pause state again."""
        self._snapshot = _Snapshot()

    def end_snapshot(self, now: datetime) -> DayStats | None:
        """Close pauses of members a completed QueueStatus listing no longer shows paused."""
        closed = self.tick(now)
        snap, self._snapshot = self._snapshot, None
        if snap is not None:
            for seat_id, pause in list(self._paused.items()):
                for queue in list(pause.queues):
                    if queue in snap.queues_listed and (seat_id, queue) not in snap.paused_seen:
                        self._unpause(seat_id, queue, now)
        return closed

    # ----- reading ----------------------------------------------------------------------------

    @property
    def day(self) -> date | None:
        """The statistics day being counted (None before the first event)."""
        return self._day

    def today(self, now: datetime) -> DayStats:
        """The current day's figures, open pauses counted up to `now` (call `tick` first)."""
        return self._figures(now)

    # ----- persistence ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to carry on after a restart, as JSON-ready values."""
        return {
            "version": SNAPSHOT_VERSION,
            "day": self._day.isoformat() if self._day else None,
            "service_level_seconds": self._threshold,
            "hall": {
                "joined": self._hall.joined,
                "answered": self._hall.answered,
                "abandoned": self._hall.abandoned,
                "answered_within_sl": self._hall.answered_within_sl,
                "missed": self._hall.missed,
                "talk_seconds": self._hall.talk_seconds,
                "wait_seconds": self._hall.wait_seconds,
                "waits_counted": self._hall.waits_counted,
            },
            "seats": {
                seat_id: {
                    "offered": s.offered,
                    "answered": s.answered,
                    "missed": s.missed,
                    "talk_seconds": s.talk_seconds,
                    "pause_seconds": s.pause_seconds,
                }
                for seat_id, s in sorted(self._seats.items())
            },
            "received_ids": sorted(self._received),
            "answered_ids": sorted(self._answered),
            "abandoned_ids": sorted(self._abandoned),
            "joined": {u: at.isoformat() for u, at in sorted(self._joined.items())},
            "talking": {
                u: {"seat": seat, "since": at.isoformat()} for u, (seat, at) in sorted(self._talking.items())
            },
            "paused": {
                seat_id: {"since": p.since.isoformat(), "queues": sorted(p.queues)}
                for seat_id, p in sorted(self._paused.items())
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], seat_of: SeatResolver | None = None) -> HallStats:
        """Rebuild from `to_dict` output; raises ValueError when the data is not such a snapshot."""
        try:
            if data["version"] != SNAPSHOT_VERSION:
                raise ValueError(f"unsupported stats snapshot version {data['version']!r}")
            stats = cls(int(data["service_level_seconds"]), seat_of)
            stats._day = date.fromisoformat(data["day"]) if data["day"] else None
            stats._hall = _hall_from(data["hall"])
            stats._seats = {
                seat_id: _Seat(
                    offered=int(s["offered"]),
                    answered=int(s["answered"]),
                    missed=int(s["missed"]),
                    talk_seconds=int(s["talk_seconds"]),
                    pause_seconds=float(s["pause_seconds"]),
                )
                for seat_id, s in data["seats"].items()
            }
            stats._received = {str(u) for u in data["received_ids"]}
            stats._answered = {str(u) for u in data["answered_ids"]}
            stats._abandoned = {str(u) for u in data["abandoned_ids"]}
            stats._joined = {u: _aware(at) for u, at in data["joined"].items()}
            stats._talking = {u: (t["seat"], _aware(t["since"])) for u, t in data["talking"].items()}
            stats._paused = {
                seat_id: _Pause(since=_aware(p["since"]), queues={str(q) for q in p["queues"]})
                for seat_id, p in data["paused"].items()
            }
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"malformed stats snapshot: {error!r}") from error
        return stats

    # ----- calls ------------------------------------------------------------------------------

    def _seat(self, event: Event) -> str | None:
        member = header(event, "MemberName") or ""
        interface = header(event, "Interface") or ""
        return self._seat_of(member, interface) if member or interface else None

    def _counters(self, seat_id: str) -> _Seat:
        return self._seats.setdefault(seat_id, _Seat())

    def _on_join(self, event: Event, now: datetime) -> None:
        uniqueid = header(event, "Uniqueid")
        if not uniqueid:
            return
        self._joined.setdefault(uniqueid, now)
        if uniqueid not in self._received:
            self._received.add(uniqueid)
            self._hall.joined += 1

    def _on_abandon(self, event: Event, now: datetime) -> None:
        uniqueid = header(event, "Uniqueid")
        if not uniqueid:
            return
        self._joined.pop(uniqueid, None)
        if uniqueid not in self._abandoned:
            self._abandoned.add(uniqueid)
            self._hall.abandoned += 1

    def _on_called(self, event: Event, now: datetime) -> None:
        seat_id = self._seat(event)
        if seat_id:
            self._counters(seat_id).offered += 1

    def _on_ring_no_answer(self, event: Event, now: datetime) -> None:
        self._hall.missed += 1
        seat_id = self._seat(event)
        if seat_id:
            self._counters(seat_id).missed += 1

    def _on_connect(self, event: Event, now: datetime) -> None:
        uniqueid = header(event, "Uniqueid")
        if not uniqueid:
            return
        seat_id = self._seat(event)
        joined = self._joined.pop(uniqueid, None)
        hold = header_int(event, "HoldTime")
        if hold is None and joined is not None:
            hold = int((now - joined).total_seconds())
        self._talking[uniqueid] = (seat_id, now)
        if uniqueid in self._answered:
            return
        self._answered.add(uniqueid)
        self._hall.answered += 1
        if hold is not None and hold >= 0:
            self._hall.wait_seconds += hold
            self._hall.waits_counted += 1
        self._hall.answered_within_sl += int(kpi.answered_within(hold, self._threshold))
        if seat_id:
            self._counters(seat_id).answered += 1

    def _on_complete(self, event: Event, now: datetime) -> None:
        uniqueid = header(event, "Uniqueid")
        talking = self._talking.pop(uniqueid, None) if uniqueid else None
        talk = header_int(event, "TalkTime")
        if talk is None and talking is not None:
            talk = int((now - talking[1]).total_seconds())
        if talk is None or talk < 0:
            return
        self._hall.talk_seconds += talk
        seat_id = self._seat(event) or (talking[0] if talking else None)
        if seat_id:
            self._counters(seat_id).talk_seconds += talk

    def _on_hangup(self, event: Event, now: datetime) -> None:
        """A caller who hangs up without a connect or abandon (voicemail, IVR) stops waiting."""
        uniqueid = header(event, "Uniqueid")
        if uniqueid:
            self._joined.pop(uniqueid, None)

    # ----- pauses -----------------------------------------------------------------------------

    def _on_member(self, event: Event, now: datetime) -> None:
        seat_id = self._seat(event) or self._seat_from_snapshot_names(event)
        queue = header(event, "Queue")
        paused = header(event, "Paused")
        if not seat_id or not queue or paused is None:
            return
        if paused.strip() == FLAG_TRUE:
            self._pause(seat_id, queue, now)
            if self._snapshot is not None:
                self._snapshot.paused_seen.add((seat_id, queue))
        else:
            self._unpause(seat_id, queue, now)
        if self._snapshot is not None and header(event, "Event") == "QueueMember":
            self._snapshot.queues_listed.add(queue)

    def _seat_from_snapshot_names(self, event: Event) -> str | None:
        """QueueStatus's QueueMember says Name/Location where live events say MemberName/Interface."""
        name = header(event, "Name") or ""
        location = header(event, "Location") or ""
        return self._seat_of(name, location) if name or location else None

    def _on_member_removed(self, event: Event, now: datetime) -> None:
        seat_id = self._seat(event)
        queue = header(event, "Queue")
        if seat_id and queue:
            self._unpause(seat_id, queue, now)

    def _on_queue_params(self, event: Event, now: datetime) -> None:
        queue = header(event, "Queue")
        if queue and self._snapshot is not None:
            self._snapshot.queues_listed.add(queue)

    def _pause(self, seat_id: str, queue: str, now: datetime) -> None:
        pause = self._paused.setdefault(seat_id, _Pause(since=now))
        pause.queues.add(queue)
        self._counters(seat_id)

    def _unpause(self, seat_id: str, queue: str, now: datetime) -> None:
        """A seat's pause lasts while it is paused in at least one queue."""
        pause = self._paused.get(seat_id)
        if pause is None:
            return
        pause.queues.discard(queue)
        if not pause.queues:
            del self._paused[seat_id]
            elapsed = (now - pause.since).total_seconds()
            self._counters(seat_id).pause_seconds += max(0.0, elapsed)

    # ----- days -------------------------------------------------------------------------------

    def _roll_over(self, today: date, now: datetime) -> DayStats:
        """Close the old day (open pauses end at its midnight) and start `today` from zero."""
        old_day = self._day or today
        old_end = _start_of(old_day + timedelta(days=1), now)
        for seat_id, pause in self._paused.items():
            self._counters(seat_id).pause_seconds += max(0.0, (old_end - pause.since).total_seconds())
        final = self._figures(None)
        new_start = _start_of(today, now)
        old_start = _start_of(old_day, now)
        for pause in self._paused.values():
            pause.since = new_start
        self._joined = {u: at for u, at in self._joined.items() if at >= old_start}
        self._day = today
        self._hall = _Hall()
        self._seats = {seat_id: _Seat() for seat_id in self._paused}
        self._received, self._answered, self._abandoned = set(), set(), set()
        return final

    def _figures(self, now: datetime | None) -> DayStats:
        seats = []
        for seat_id, counters in sorted(self._seats.items()):
            pause_seconds = counters.pause_seconds
            pause = self._paused.get(seat_id)
            if pause is not None and now is not None:
                pause_seconds += max(0.0, (now - pause.since).total_seconds())
            seats.append(
                SeatCounters(
                    seat_id=seat_id,
                    offered=counters.offered,
                    answered=counters.answered,
                    missed=counters.missed,
                    talk_seconds=counters.talk_seconds,
                    pause_seconds=pause_seconds,
                )
            )
        hall = self._hall
        return DayStats(
            day=self._day,
            service_level_seconds=self._threshold,
            hall=HallCounters(**asdict(hall)),
            seats=tuple(seats),
        )


def _aware(value: str) -> datetime:
    """Parse a persisted timestamp, refusing naive ones (they would break day arithmetic)."""
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without timezone in stats snapshot: {value!r}")
    return parsed


def _hall_from(data: Mapping[str, Any]) -> _Hall:
    """The hall counters of a snapshot; one written before the KPI unification called the
    join count "received"."""
    values = {key: int(value) for key, value in data.items()}
    if "received" in values:
        values.setdefault("joined", values.pop("received"))
    return _Hall(**values)

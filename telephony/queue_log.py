"""Asterisk's queue_log read as the hall's books: pure parsing and folding, no I/O.

Asterisk appends a line to its queue_log for every queue event, with its own clock, whether or
not the service is listening: `epoch|callid|queue|agent|event|data1|data2|…`. The live AMI path
records calls as they happen, but a call that ends while the AMI link is down, or while the
service is dead, is seen late or not at all. The queue_log closes that gap: folding it gives
every finished queue call with Asterisk's times, which `queue_log_reader` reconciles with the
store (insert what is missing, correct what the live path had to guess).

The dialplan writes one line of its own before Queue(): `HOTLINEID` with the call's Linkedid,
so a queue_log call carries the same key as the live path's records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from ivr.names import QUEUE_LOG_LINKEDID

LINKEDID_EVENT = QUEUE_LOG_LINKEDID
COMPLETE_EVENTS = frozenset({"COMPLETECALLER", "COMPLETEAGENT"})
ANSWERED = "answered"
ABANDONED = "abandoned"
MIN_FIELDS = 5
MAX_EPOCH = 253402300799  # 9999-12-31: a later "time" is a corrupt line, not a call
FORGET_AFTER = timedelta(hours=12)
"""A caller who left the queue without an answer or abandon line (overflow to voicemail) is
forgotten this long after entering, so the fold stays small over months of log."""


@dataclass(frozen=True)
class QueueLogLine:
    at: datetime
    callid: str
    queue: str
    agent: str
    event: str
    data: tuple[str, ...]

    def datum(self, index: int) -> str:
        return self.data[index] if index < len(self.data) else ""


def parse_line(text: str) -> QueueLogLine | None:
    """One queue_log line, or None for what is not one (partial, corrupt, empty)."""
    parts = text.rstrip("\r\n").split("|")
    if len(parts) < MIN_FIELDS or not parts[0].isdigit() or int(parts[0]) > MAX_EPOCH:
        return None
    at = datetime.fromtimestamp(int(parts[0]), UTC)
    return QueueLogLine(at, parts[1], parts[2], parts[3], parts[4], tuple(parts[5:]))


@dataclass(frozen=True)
class FinishedCall:
    """One queue call as Asterisk booked it: answered by a seat, or abandoned while waiting."""

    outcome: str
    callid: str
    linkedid: str
    queue: str
    seat_id: str | None
    citizen_number: str | None
    entered_at: datetime | None
    connected_at: datetime | None
    ended_at: datetime
    wait_seconds: int | None
    talk_seconds: int | None

    @property
    def call_key(self) -> str:
        """The live recorder's key for the same call (telephony.recorder)."""
        if self.outcome == ABANDONED:
            return f"abandoned:{self.callid}"
        return f"{self.linkedid}:{self.seat_id}"


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


@dataclass
class _Waiting:
    queue: str
    linkedid: str = ""
    number: str | None = None
    entered_at: datetime | None = None
    connected: QueueLogLine | None = None


@dataclass
class QueueLogFold:
    """Lines in, finished calls out; remembers calls still waiting or talking."""

    open_calls: dict[str, _Waiting] = field(default_factory=dict)

    def apply(self, line: QueueLogLine) -> FinishedCall | None:
        call = self.open_calls.get(line.callid)
        if line.event == LINKEDID_EVENT:
            self.open_calls.setdefault(line.callid, _Waiting(line.queue)).linkedid = line.datum(0)
        elif line.event == "ENTERQUEUE":
            self._forget_before(line.at - FORGET_AFTER)
            waiting = self.open_calls.setdefault(line.callid, _Waiting(line.queue))
            waiting.number, waiting.entered_at = line.datum(1) or None, line.at
        elif call is not None and line.event == "CONNECT":
            call.connected = line
        elif call is not None and line.event in COMPLETE_EVENTS and call.connected is not None:
            del self.open_calls[line.callid]
            return self._answered(line, call, call.connected)
        elif call is not None and line.event == "ABANDON":
            del self.open_calls[line.callid]
            return FinishedCall(ABANDONED, line.callid, call.linkedid or line.callid, line.queue,
                                None, call.number, call.entered_at, None, line.at,
                                _int(line.datum(2)), None)
        return None

    def _forget_before(self, cutoff: datetime) -> None:
        stale = [callid for callid, call in self.open_calls.items()
                 if call.entered_at is not None and call.entered_at < cutoff]
        for callid in stale:
            del self.open_calls[callid]

    @staticmethod
    def _answered(line: QueueLogLine, call: _Waiting, connect: QueueLogLine) -> FinishedCall:
        return FinishedCall(ANSWERED, line.callid, call.linkedid or line.callid, line.queue,
                            connect.agent, call.number, call.entered_at, connect.at, line.at,
                            _int(connect.datum(0)), _int(line.datum(1)))


__all__ = ["ABANDONED", "ANSWERED", "LINKEDID_EVENT", "FinishedCall", "QueueLogFold",
           "QueueLogLine", "parse_line"]

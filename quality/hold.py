"""Hold time of recorded calls, from Asterisk's own AMI events: a pure fold.

A seat phone that puts the citizen on hold (a SIP re-INVITE with sendonly/inactive) makes Asterisk
send ``Hold`` on that channel, and ``Unhold`` when it resumes; the citizen's phone may do the same.
Every channel of a call shares the call's ``Linkedid``, which is also what the recording's metadata
names, so holds are kept per linkedid. Times are Asterisk's (``Timestamp``, sent when manager.conf
has ``timestampevents = yes``, see ivr/manager.py); the time the service read the event is used only
for a PBX that does not send them.

`HoldLog.apply(event, received_at)` folds one event in; `HoldLog.spans(linkedid)` gives the call's
hold intervals (epoch seconds, overlapping holds of two channels merged). `on_recording` turns them
into seconds from the start of a recording. No I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

Span = tuple[float, float]
HOLD_EVENTS = ("Hold", "Unhold", "Hangup")
# Sent right after each AMI login: events before it (a PBX restart, a lost link) went unseen.
LOGIN_EVENT = "FullyBooted"
LISTEN_EVENTS = (*HOLD_EVENTS, LOGIN_EVENT)
# Calls whose holds were never asked for (not recorded) are forgotten after this long.
KEEP_S = 6 * 3600.0


def event_time(event: Mapping[str, str], received_at: float) -> float:
    """Asterisk's Timestamp header when it is there and sane, else when the event was read."""
    try:
        stamp = float(event.get("Timestamp", ""))
    except ValueError:
        return received_at
    return stamp if math.isfinite(stamp) and stamp > 0 else received_at


def merged(spans: Iterable[Span]) -> list[Span]:
    """Sorted, with overlapping or touching spans joined."""
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        elif end > start:
            out.append((start, end))
    return out


@dataclass
class HoldLog:
    """Open holds per channel, finished holds per call (linkedid)."""

    keep_s: float = KEEP_S
    _open: dict[str, tuple[str, float]] = field(default_factory=dict)  # uniqueid → (linkedid, start)
    _done: dict[str, list[Span]] = field(default_factory=dict)
    _seen: dict[str, float] = field(default_factory=dict)  # linkedid → last event time
    watching_since: float | None = None

    def apply(self, event: Mapping[str, str], received_at: float) -> None:
        """Fold one AMI event; anything else, or one missing its ids, is ignored."""
        kind, uniqueid = event.get("Event"), event.get("Uniqueid", "")
        if kind == LOGIN_EVENT:  # a new AMI session: whatever happened before it is unknown
            self.watching_since = event_time(event, received_at)
            self._open.clear()
            return
        linkedid = event.get("Linkedid") or uniqueid
        if kind not in HOLD_EVENTS or not uniqueid:
            return
        at = event_time(event, received_at)
        if kind == "Hold":
            self._open.setdefault(uniqueid, (linkedid, at))
        else:
            opened = self._open.pop(uniqueid, None)
            if opened is not None and at > opened[1]:
                self._done.setdefault(opened[0], []).append((opened[1], at))
        self._seen[linkedid] = at
        self._prune(at)

    def spans(self, linkedid: str, until: float | None = None) -> list[Span]:
        """The call's hold intervals; a hold still open runs until `until` (or is left out)."""
        found = list(self._done.get(linkedid, []))
        if until is not None:
            found += [(start, until) for owner, start in self._open.values()
                      if owner == linkedid and until > start]
        return merged(found)

    def snapshot(self, now: float) -> HoldSnapshot:
        """A copy for a measuring pass in another thread; holds still open run until `now`."""
        calls = set(self._done) | {owner for owner, _ in self._open.values()}
        return HoldSnapshot({c: self.spans(c, now) for c in calls}, self.watching_since)

    def forget(self, linkedid: str) -> None:
        self._done.pop(linkedid, None)
        self._seen.pop(linkedid, None)
        for uniqueid in [u for u, (owner, _) in self._open.items() if owner == linkedid]:
            del self._open[uniqueid]

    def _prune(self, now: float) -> None:
        for linkedid in [k for k, seen in self._seen.items() if now - seen > self.keep_s]:
            self.forget(linkedid)


def on_recording(spans: Iterable[Span], started: float, duration_s: float) -> list[Span]:
    """Hold intervals as seconds from the recording's start, clipped to the recording."""
    out = [(round(max(0.0, a - started), 2), round(min(duration_s, b - started), 2)) for a, b in spans]
    return merged((a, b) for a, b in out if b > a)


@dataclass(frozen=True)
class HoldSnapshot:
    """What a measuring pass knows of holds: spans per linkedid (epoch seconds) and since when the
    service has been reading AMI without a break (None: not at all, e.g. the CLI)."""

    spans: Mapping[str, list[Span]] = field(default_factory=dict)
    watching_since: float | None = None

    def for_call(self, linkedid: str | None, started: float | None, duration_s: float,
                 ) -> tuple[list[Span], bool]:
        """The call's holds in seconds of its recording, and whether the service saw the whole call
        (if not, a hold may have gone unseen and hold time is unknown, not zero)."""
        if started is None:
            return [], False
        observed = self.watching_since is not None and self.watching_since <= started
        return on_recording(self.spans.get(linkedid or "", []), started, duration_s), observed

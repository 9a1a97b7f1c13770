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
from typing import NamedTuple

Span = tuple[float, float]
HOLD_EVENTS = ("Hold", "Unhold", "Hangup")
# Sent right after each AMI login: events before it (a PBX restart, a lost link) went unseen.
LOGIN_EVENT = "FullyBooted"
LISTEN_EVENTS = (*HOLD_EVENTS, LOGIN_EVENT)
# Files shorter than the call by less than this are jitter (MixMonitor starts a moment after the
# metadata's start), not a hold missing from them.
MISSING_TOLERANCE_S = 0.3
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
            if opened is None:  # a hang-up without hold: most of them, nothing to keep
                return
            if at > opened[1]:
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


class CallHolds(NamedTuple):
    """A call's holds on its recording: where (seconds of the files), how long each lasted for the
    citizen (seconds), and whether the service saw the whole call."""

    spans: list[Span]
    lengths: list[float]
    observed: bool


def on_recording(spans: Iterable[Span], started: float, duration_s: float,
                 ended: float | None = None) -> tuple[list[Span], list[float]]:
    """Hold intervals in seconds of the recording's files, and each hold's own length.

    MixMonitor writes nothing while no media flows: when the seat's phone holds (no audio either
    way), both files lack the hold and are shorter than the call (ended - started). That missing
    time is taken out of the holds, first hold first: such a hold shrinks to a point of the files
    (the audio before and after it meets there) and what follows it moves earlier. A hold with
    audio going on (the citizen's phone holding, music to the seat) keeps its length."""
    missing = (ended - started) - duration_s if ended is not None else 0.0
    missing = missing if missing >= MISSING_TOLERANCE_S else 0.0
    placed: list[Span] = []
    lengths: list[float] = []
    shift = 0.0
    for a, b in merged(spans):
        a, b = max(a, started), min(b, ended) if ended is not None else b
        if b <= a:
            continue
        cut = min(missing, b - a)
        start = a - started - shift
        if start > duration_s:
            break
        placed.append((round(start, 2), round(min(duration_s, start + (b - a) - cut), 2)))
        lengths.append(round(b - a, 2))
        shift, missing = shift + cut, missing - cut
    return placed, lengths


@dataclass(frozen=True)
class HoldSnapshot:
    """What a measuring pass knows of holds: spans per linkedid (epoch seconds) and since when the
    service has been reading AMI without a break (None: not at all, e.g. the CLI)."""

    spans: Mapping[str, list[Span]] = field(default_factory=dict)
    watching_since: float | None = None

    def for_call(self, linkedid: str | None, started: float | None, duration_s: float,
                 ended: float | None = None) -> CallHolds:
        """The call's holds on its recording, and whether the service saw the whole call (if not,
        a hold may have gone unseen: hold time is unknown, not zero)."""
        if started is None:
            return CallHolds([], [], False)
        observed = self.watching_since is not None and self.watching_since <= started
        spans, lengths = on_recording(self.spans.get(linkedid or "", []), started, duration_s, ended)
        return CallHolds(spans, lengths, observed)

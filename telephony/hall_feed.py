"""What the hall puts on the live feed: seat changes as they happen, queue and call markers.

The publisher is a HallListener, so it sees exactly what the seat machine applied, in order,
including the changes of a resync (which it announces as `resync`: every client refetches).
Queue and call markers carry no data; their renderers read the picture when the frame goes out.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hotline.auth.principal import Principal
from hotline.live import KIND_RESYNC, LiveFeed
from seat_manager.api import seat_out
from seat_manager.state import SeatChange, SeatState, SeatView
from telephony.api import waiting_list
from telephony.hall import Hall

KIND_SEAT = "seat"
KIND_QUEUE = "queue"
KIND_CALLS = "calls"
HALL_KINDS = frozenset({KIND_SEAT, KIND_QUEUE, KIND_CALLS})
"""Every node follows Asterisk itself: these changes are never relayed between nodes."""
QUEUE_EVENTS = frozenset({"QueueCallerJoin", "QueueCallerLeave", "QueueCallerAbandon"})
CALL_EVENTS = frozenset({"Newchannel", "Hangup", "BridgeEnter", "BridgeLeave",
                         "ConfbridgeJoin", "ConfbridgeLeave"})
CALL_STATES = frozenset({SeatState.RINGING, SeatState.ON_CALL, SeatState.WRAP_UP})
CALLER_ID_EVENTS = frozenset({"NewCallerid", "NewConnectedLine"})


class HallPublisher:
    """Feeds the hall's changes to the live feed (a HallListener).

    A seat is published when its state changes, and also when a call event changes what its
    tile shows without changing its state (the call turning three-way, the caller's number
    arriving): after such events the seats last sent in a call state are compared with what was
    sent (only those: building all 50 views on every channel event costs ~160 µs).
    """

    def __init__(self, hall: Hall, feed: LiveFeed) -> None:
        self.hall = hall
        self.feed = feed
        self._resyncs_seen = hall.monitor.resyncs
        self._stale_seen = hall.board.stale_since
        self._sent: dict[str, SeatView] = self._current()

    def _current(self) -> dict[str, SeatView]:
        """Every seat as the pages have it after a (re)fetch."""
        return {view.seat_id: view for view in self.hall.board.seats()}

    def _send(self, view: SeatView) -> None:
        self._sent[view.seat_id] = view
        self.feed.publish(KIND_SEAT, view)

    def _send_changed_calls(self) -> None:
        # A seat only holds a call in these states, and reaching one is a state change (sent).
        for seat_id, last in list(self._sent.items()):
            if last.state not in CALL_STATES:
                continue
            view = self.hall.board.seat(seat_id)
            if view is not None and view != last:
                self._send(view)

    def __call__(self, event: Mapping[str, str] | None, changes: list[SeatChange],
                 now: datetime) -> None:
        # A rebuilt picture, or the link lost (every seat now says since when it is stale):
        # every client refetches.
        stale = self.hall.board.stale_since
        if self.hall.monitor.resyncs != self._resyncs_seen or stale != self._stale_seen:
            self._resyncs_seen = self.hall.monitor.resyncs
            self._stale_seen = stale
            self._sent = self._current()
            self.feed.publish(KIND_RESYNC)
            return
        for change in changes:
            view = self.hall.board.seat(change.seat_id)
            if view is not None:
                self._send(view)
        name = event.get("Event") if event is not None else None
        if name in QUEUE_EVENTS:
            self.feed.publish(KIND_QUEUE)
        if name in CALL_EVENTS or name in CALLER_ID_EVENTS:
            self._send_changed_calls()
        if name in CALL_EVENTS:
            self.feed.publish(KIND_CALLS)


def attach_hall(hall: Hall, feed: LiveFeed) -> HallPublisher:
    """Publish the hall's changes on `feed` and teach the feed how to render them."""

    def render_seat(view: SeatView, principal: Principal) -> dict[str, Any]:
        return seat_out(view, principal).model_dump(mode="json")

    def render_queue(_payload: object, principal: Principal) -> dict[str, Any]:
        waiting = waiting_list(hall, principal)
        longest = max((w.waiting_seconds for w in waiting), default=None)
        return {"waiting": [w.model_dump(mode="json") for w in waiting], "longest_wait_seconds": longest}

    def render_calls(_payload: object, _principal: Principal) -> dict[str, Any]:
        return {"in_progress": len(hall.calls.calls())}

    feed.add_renderer(KIND_SEAT, render_seat)
    feed.add_renderer(KIND_QUEUE, render_queue)
    feed.add_renderer(KIND_CALLS, render_calls)
    publisher = HallPublisher(hall, feed)
    hall.monitor.add_listener(publisher)
    return publisher

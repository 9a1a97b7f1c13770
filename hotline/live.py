"""The live feed: changes in the hall, fanned out to every open event stream.

Producers (the seat monitor, the voicemail workers, the callback routes) `publish` a kind and a
payload; each subscriber (one per open `/api/events` stream) gets its own bounded backlog. A
subscriber that falls behind is not allowed to hold memory or slow the producers: its backlog is
dropped and replaced by one `resync`, after which the client refetches its full state.

Payloads are rendered per subscriber at send time by the renderer registered for their kind, so
that a monitor's stream masks citizens' numbers and an operator's does not, and so that
"something changed" markers (queue, calls) are sent as the picture stands when they go out.
Producers may run on worker threads (sync routes run in a thread pool): publishing from another
thread hands the event to the feed's event loop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hotline.auth.principal import Principal

log = logging.getLogger(__name__)

BACKLOG_PER_SUBSCRIBER = 512
KIND_RESYNC = "resync"
COALESCED_KINDS = frozenset({"queue", "calls", "voicemails", "callbacks"})
"""Kinds whose payload is rendered from the current picture: one pending copy is enough."""

Renderer = Callable[[Any, Principal], dict[str, Any] | None]
"""(payload, principal) -> the JSON object to send, or None to send nothing for this subscriber."""


Encoder = Callable[[str, dict[str, Any]], bytes]
"""(kind, rendered data) -> the bytes of one frame on the wire."""


@dataclass(frozen=True, slots=True)
class LiveEvent:
    kind: str
    payload: Any = None
    frames: dict[Principal, bytes | None] = field(default_factory=dict, compare=False, repr=False)
    """Encoded once per principal, however many streams send it (see LiveFeed.frame)."""


RESYNC = LiveEvent(KIND_RESYNC)


@dataclass(eq=False)
class Subscription:
    """One open stream's backlog; iterate it with `next_event`."""

    feed: LiveFeed
    backlog: int
    _queue: asyncio.Queue[LiveEvent] = field(default_factory=asyncio.Queue)
    _pending_kinds: set[str] = field(default_factory=set)
    dropped: int = 0

    def offer(self, event: LiveEvent) -> None:
        """Called on the feed's loop only."""
        if event.kind in COALESCED_KINDS:
            if event.kind in self._pending_kinds:
                return
            self._pending_kinds.add(event.kind)
        if self._queue.qsize() >= self.backlog:
            self.dropped += self._queue.qsize() + 1  # the backlog and this event
            self._drain()
            self._queue.put_nowait(RESYNC)
            return
        self._queue.put_nowait(event)

    def _drain(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        self._pending_kinds.clear()

    async def next_event(self, timeout: float) -> LiveEvent | None:
        """The next event, or None when `timeout` seconds pass without one."""
        try:
            event = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None
        self._pending_kinds.discard(event.kind)
        return event

    def close(self) -> None:
        self.feed._subscribers.discard(self)


class LiveFeed:
    def __init__(self, backlog: int = BACKLOG_PER_SUBSCRIBER) -> None:
        self.backlog = backlog
        self.renderers: dict[str, Renderer] = {}
        self._subscribers: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._coalesced_frames: dict[str, dict[Principal, bytes | None]] = {}
        self.renders = 0
        # Set by a cross-node relay (hotline.cluster.FeedRelay): every published change is also
        # handed to it, subscribers or not; what it receives comes back through publish_local.
        self.forward: Callable[[str, Any], None] | None = None

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def add_renderer(self, kind: str, renderer: Renderer) -> None:
        self.renderers[kind] = renderer

    def publish(self, kind: str, payload: Any = None) -> None:
        """Hand a change to every subscriber, and to the other nodes; any thread, never blocks."""
        forward = self.forward
        if forward is not None:
            forward(kind, payload)
        self.publish_local(kind, payload)

    def publish_local(self, kind: str, payload: Any = None) -> None:
        """Hand a change to this node's subscribers only (a change relayed from another node)."""
        if not self._subscribers or self._loop is None:
            return
        event = LiveEvent(kind, payload)
        if threading.get_ident() == self._loop_thread:
            self._deliver(event)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._deliver, event)

    def _deliver(self, event: LiveEvent) -> None:
        self._coalesced_frames.pop(event.kind, None)  # the picture changed: render it again
        for subscription in list(self._subscribers):
            subscription.offer(event)

    def subscribe(self) -> Subscription:
        """A new backlog; call from the event loop that serves the streams."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        subscription = Subscription(self, self.backlog)
        self._subscribers.add(subscription)
        return subscription

    def frame(self, event: LiveEvent, principal: Principal, encode: Encoder) -> bytes | None:
        """`event` as `principal`'s stream sends it, rendered and encoded once per change.

        Why: 100 open streams rendering each event for themselves (a calls marker walks every
        call) made the streams cost more than all the requests. A seat event carries its view,
        so its frame is kept on the event; a coalesced marker is rendered from the current
        picture, so its frame is kept until the next event of its kind (a stream that sends
        it later must not get a picture from before that event).
        """
        cache = (self._coalesced_frames.setdefault(event.kind, {}) if event.kind in COALESCED_KINDS
                 else event.frames)
        if principal in cache:
            return cache[principal]
        data = self.render(event, principal)
        self.renders += 1
        encoded = encode(event.kind, data) if data is not None else None
        cache[principal] = encoded
        return encoded

    def render(self, event: LiveEvent, principal: Principal) -> dict[str, Any] | None:
        """What `principal` should receive for `event` (None: nothing)."""
        renderer = self.renderers.get(event.kind)
        if renderer is None:
            return event.payload if isinstance(event.payload, dict) else {}
        return renderer(event.payload, principal)


__all__ = ["KIND_RESYNC", "RESYNC", "Encoder", "LiveEvent", "LiveFeed", "Renderer", "Subscription"]

"""Live changes from one node reach the event streams of every node: PostgreSQL NOTIFY.

Each node sends the kinds it publishes that do not come from its own AMI connection (a message
registered, a callback claimed, ...) on one channel, and listens on it for the other nodes'.
NOTIFY delivers one sender's messages in the order it sent them, so each producer's changes
arrive in order. Seat, queue and call changes are not relayed: every node follows Asterisk
itself, in Asterisk's order. After the listening connection is lost and found again every
stream on this node is told to resync (what was sent meanwhile is gone).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import psycopg
from sqlalchemy.engine import URL, make_url

from hotline.live import KIND_RESYNC, LiveFeed
from hotline.tasks import cancel_and_wait

log = logging.getLogger(__name__)

CHANNEL = "hotline_live"
RETRY_S = 1.0
MAX_NOTIFY_BYTES = 7900  # PostgreSQL refuses payloads of 8000 bytes and more


def libpq_url(url: str | URL) -> str:
    """The SQLAlchemy URL as libpq takes it (query options such as search_path kept)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class FeedRelay:
    """A lifespan component: forwards `feed`'s non-local kinds and publishes the others' here."""

    name = "live-relay"

    def __init__(self, url: str | URL, feed: LiveFeed, node_id: str, *,
                 local_kinds: Iterable[str] = ()) -> None:
        self.conninfo = libpq_url(url)
        self.feed = feed
        self.node_id = node_id
        self.local_kinds = frozenset({KIND_RESYNC, *local_kinds})
        self.sent = 0
        self.received = 0
        self.connected = False
        self._listened = False
        self._outbox: asyncio.Queue[str] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        # Called on the loop with (kind, payload) of every change another node sent, e.g. to
        # wake this node's triage when another node registered a message.
        self.on_receive: list[Callable[[str, Any], None]] = []

    async def start(self, app: Any) -> None:
        app.state.live_relay = self
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self.feed.forward = self.forward
        self._tasks = [asyncio.create_task(self._listen(), name="live-relay-listen"),
                       asyncio.create_task(self._send(), name="live-relay-send")]

    async def stop(self) -> None:
        self.feed.forward = None
        for task in self._tasks:
            await cancel_and_wait(task)
        self._tasks = []

    def forward(self, kind: str, payload: Any) -> None:
        """Called by LiveFeed.publish from any thread; never blocks."""
        if kind in self.local_kinds or self._loop is None:
            return
        try:
            text = json.dumps({"node": self.node_id, "kind": kind, "payload": payload,
                               "at": time.time()}, ensure_ascii=False)
        except (TypeError, ValueError):
            log.warning("live change %s not relayed: its payload is not JSON", kind)
            return
        if len(text.encode()) > MAX_NOTIFY_BYTES:
            log.warning("live change %s not relayed: %d bytes is too large", kind, len(text))
            return
        if threading.get_ident() == self._loop_thread:
            self._outbox.put_nowait(text)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._outbox.put_nowait, text)

    async def _send(self) -> None:
        pending: str | None = None
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
                    while True:
                        pending = pending or await self._outbox.get()
                        await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, pending))
                        self.sent += 1
                        pending = None
            except (psycopg.Error, OSError) as exc:
                log.warning("live relay: cannot send (%s); retrying", type(exc).__name__)
                await asyncio.sleep(RETRY_S)

    async def _listen(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    if self._listened:
                        self.feed.publish_local(KIND_RESYNC)  # what others sent meanwhile is lost
                    self.connected = self._listened = True
                    async for notice in conn.notifies():
                        self._receive(notice.payload)
            except (psycopg.Error, OSError) as exc:
                log.warning("live relay: not listening (%s); retrying", type(exc).__name__)
            self.connected = False
            await asyncio.sleep(RETRY_S)

    def _receive(self, text: str) -> None:
        try:
            message = json.loads(text)
            node, kind, payload = message["node"], message["kind"], message.get("payload")
        except (ValueError, KeyError, TypeError):
            log.warning("live relay: unreadable notice ignored")
            return
        if node == self.node_id:
            return
        self.received += 1
        self.feed.publish_local(kind, payload)
        for listener in self.on_receive:
            try:
                listener(kind, payload)
            except Exception:
                log.exception("live relay: a listener failed")

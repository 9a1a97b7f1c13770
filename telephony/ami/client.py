"""The AMI connection: login, reconnect, action round trips and ordered event delivery.

Three tasks cooperate:

* the connection task connects, logs in, pings, and after any loss reconnects forever with
  exponential backoff (a refused login waits the maximum delay: a fast retry cannot help);
* the reader task (one per connection) frames bytes and routes each message at once:
  answers to their waiting actions, events into ONE bounded queue. It never awaits the
  queue, so action responses keep flowing even when listeners are slow;
* the dispatcher task hands queued events to listeners one by one in arrival order.

After each login (and after a queue overflow, which leaves the picture stale) a resync
marker is queued in stream order; when the dispatcher reaches it, it runs the login hooks
(snapshots such as QueueStatus) before any event that arrived after the login.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from .backoff import Backoff
from .correlation import ActionTracker, Response
from .errors import AmiActionError, AmiError, AmiLoginError, AmiNotConnected, AmiTimeout
from .framing import AmiFramer
from .message import KIND_EVENT, Action, HeaderValue, Message
from .settings import AmiSettings

log = logging.getLogger(__name__)

Listener = Callable[[Message], Awaitable[None] | None]
LoginHook = Callable[["AmiClient"], Awaitable[None]]
StateListener = Callable[["AmiState"], None]

CLOSE_WAIT_SECONDS: Final = 1.0
"""How long to wait for a closing socket to finish before giving up on it."""
RESYNC_ON_LOGIN: Final = "login"
RESYNC_ON_OVERFLOW: Final = "event queue overflow"


class AmiState(StrEnum):
    """Where the connection stands; LOGIN_REFUSED means credentials need fixing."""

    STOPPED = "stopped"
    CONNECTING = "connecting"
    LOGGING_IN = "logging_in"
    RESYNCING = "resyncing"
    CONNECTED = "connected"
    BACKING_OFF = "backing_off"
    LOGIN_REFUSED = "login_refused"


@dataclass(slots=True)
class AmiStats:
    """Counters for health pages and alarms."""

    events_received: int = 0
    events_dropped: int = 0
    queue_overflows: int = 0
    logins: int = 0
    reconnects: int = 0
    """Logins after the first one: each means the link was lost and restored."""
    connection_losses: int = 0
    resyncs: int = 0
    actions_sent: int = 0
    action_timeouts: int = 0


@dataclass(frozen=True, slots=True)
class _Resync:
    """Queue marker: run the login hooks here, in stream order."""

    generation: int
    reason: str


@dataclass(frozen=True, slots=True)
class _Subscription:
    callback: Listener
    events: frozenset[str] | None

    def wants(self, message: Message) -> bool:
        if self.events is None:
            return True
        return (message.name or "").lower() in self.events


class AmiClient:
    """An Asterisk Manager Interface client that survives Asterisk restarts."""

    def __init__(self, settings: AmiSettings, *, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.stats = AmiStats()
        self._rng = rng
        self._tracker = ActionTracker(settings.action_id_prefix)
        self._queue: asyncio.Queue[Message | _Resync] = asyncio.Queue(settings.event_queue_size)
        self._listeners: list[_Subscription] = []
        self._login_hooks: list[LoginHook] = []
        self._state_listeners: list[StateListener] = []
        self._state = AmiState.STOPPED
        self._ready = asyncio.Event()
        self._logged_in = False
        self._generation = 0
        self._writer: asyncio.StreamWriter | None = None
        self._last_read = 0.0
        """Loop time of the last bytes read: a link that still delivers is alive."""
        self._connected_since: datetime | None = None
        self._last_error: str | None = None
        self._banner: str | None = None
        self._stopping = False
        self._run_task: asyncio.Task[None] | None = None
        self._dispatch_task: asyncio.Task[None] | None = None

    # Observable state ------------------------------------------------------------------
    @property
    def state(self) -> AmiState:
        return self._state

    @property
    def connected(self) -> bool:
        """Logged in: actions can be sent (also while the login hooks resync)."""
        return self._logged_in

    @property
    def connected_since(self) -> datetime | None:
        """UTC time of the current session's login, None when not connected."""
        return self._connected_since

    @property
    def last_error(self) -> str | None:
        """Why the last connection attempt or session ended (kept after recovery)."""
        return self._last_error

    @property
    def banner(self) -> str | None:
        """AMI protocol version announced by Asterisk on the current/last connection."""
        return self._banner

    @property
    def pending_actions(self) -> int:
        return len(self._tracker)

    @property
    def queued_events(self) -> int:
        return self._queue.qsize()

    # Registration ----------------------------------------------------------------------
    def add_listener(self, callback: Listener, events: Iterable[str] | None = None) -> Callable[[], None]:
        """Receive unsolicited events (sync or async callable), optionally only the named
        ones. Calls are strictly sequential and in arrival order. Returns a remover."""
        names = None if events is None else frozenset(name.lower() for name in events)
        subscription = _Subscription(callback, names)
        self._listeners.append(subscription)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(subscription)

        return remove

    def add_login_hook(self, hook: LoginHook) -> None:
        """Run ``await hook(client)`` after every login and every overflow, before later
        events are dispatched: the place to take snapshots (QueueStatus, CoreShowChannels).

        Hooks run in the dispatcher task, one after the other; a failing hook is logged and
        the next one runs. A hook must not await ``wait_connected`` (that waits for it)."""
        self._login_hooks.append(hook)

    def add_state_listener(self, callback: StateListener) -> None:
        """Be told (synchronously) about every state change."""
        self._state_listeners.append(callback)

    # Lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Start connecting in the background; returns at once (see ``wait_connected``)."""
        if self._run_task is not None:
            raise RuntimeError("AmiClient already started")
        if not self.settings.username:
            raise ValueError("AmiSettings.username is required to log in")
        self._stopping = False
        self._dispatch_task = asyncio.create_task(self._dispatch_loop(), name="ami-dispatch")
        self._run_task = asyncio.create_task(self._run(), name="ami-connection")

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait until logged in and resynced (login hooks done)."""
        async with asyncio.timeout(timeout):
            await self._ready.wait()

    async def stop(self) -> None:
        """Log off if connected, then close everything; pending actions fail."""
        self._stopping = True
        if self.connected:
            with contextlib.suppress(AmiError):
                await self.send(Action("Logoff"), timeout=self.settings.logoff_timeout)
        for task in (self._run_task, self._dispatch_task):
            if task is not None:
                task.cancel()
        for task in (self._run_task, self._dispatch_task):
            if task is not None:
                await asyncio.gather(task, return_exceptions=True)
        self._run_task = self._dispatch_task = None
        self._tracker.fail_all(AmiNotConnected("AMI client stopped"))
        self._set_state(AmiState.STOPPED)

    # Actions ---------------------------------------------------------------------------
    async def send_action(self, name: str, /, **headers: HeaderValue) -> Response:
        """Send ``name`` with ``headers`` and wait for its answer (and list, if any).

        For list actions (see event_lists) the Response carries the events with our
        ActionID; other events that echo an ActionID (OriginateResponse) go to listeners.
        Raises AmiNotConnected, AmiTimeout (settings.action_timeout) or AmiActionError.
        Never retried by the client: after AmiNotConnected the outcome is unknown.
        """
        return await self.send(Action(name, **headers))

    async def send(self, action: Action, *, timeout: float | None = None) -> Response:
        """Like ``send_action`` for a prepared Action, with an optional own timeout."""
        if not self._logged_in:
            raise AmiNotConnected(f"cannot send {action.name}: AMI is {self._state.value}")
        return await self._round_trip(action, timeout)

    async def _round_trip(
        self,
        action: Action,
        timeout: float | None,
        on_success: Callable[[Message], None] | None = None,
    ) -> Response:
        writer = self._writer
        if writer is None or writer.is_closing():
            raise AmiNotConnected(f"cannot send {action.name}: no AMI connection")
        limit = self.settings.action_timeout if timeout is None else timeout
        action_id = self._tracker.new_id()
        answer = self._tracker.register(action_id, action.name, on_success=on_success)
        self.stats.actions_sent += 1
        try:
            writer.write(action.to_bytes(action_id))
            async with asyncio.timeout(limit):
                await writer.drain()
                return await answer
        except TimeoutError:
            self.stats.action_timeouts += 1
            raise AmiTimeout(
                f"{action.name} (ActionID {action_id}) not answered within {limit:g} s"
            ) from None
        except (ConnectionError, OSError) as exc:
            raise AmiNotConnected(f"{action.name}: AMI connection lost ({exc})") from exc
        finally:
            self._tracker.discard(action_id)

    # Connection task -------------------------------------------------------------------
    async def _run(self) -> None:
        backoff = Backoff(
            self.settings.backoff_initial,
            self.settings.backoff_max,
            self.settings.backoff_jitter,
            self._rng,
        )
        while not self._stopping:
            try:
                await self._session(backoff)
                reason = "AMI connection closed"
                delay = backoff.next_delay()
                state = AmiState.BACKING_OFF
            except AmiLoginError as exc:
                reason = str(exc)
                delay = backoff.max_delay()
                state = AmiState.LOGIN_REFUSED
                log.error("%s; retrying in %.1f s", reason, delay)
            except (AmiError, OSError, TimeoutError) as exc:
                reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                delay = backoff.next_delay()
                state = AmiState.BACKING_OFF
            except Exception as exc:  # a bug must not end reconnection for good
                log.exception("unexpected error in the AMI connection task")
                reason = f"internal error: {exc!r}"
                delay = backoff.next_delay()
                state = AmiState.BACKING_OFF
            if self._stopping:
                return
            self._last_error = reason
            if state is AmiState.BACKING_OFF:
                log.warning(
                    "AMI %s:%d: %s; reconnecting in %.2f s",
                    self.settings.host,
                    self.settings.port,
                    reason,
                    delay,
                )
            self._set_state(state)
            await asyncio.sleep(delay)

    async def _session(self, backoff: Backoff) -> None:
        """One connection from connect to loss; returns or raises when it is over."""
        self._set_state(AmiState.CONNECTING)
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.settings.host, self.settings.port),
            self.settings.connect_timeout,
        )
        self._generation += 1
        self._writer = writer
        framer = AmiFramer(self.settings.max_frame_bytes)
        reader_task = asyncio.create_task(self._read_loop(reader, framer), name="ami-reader")
        try:
            self._set_state(AmiState.LOGGING_IN)
            await self._login()
            backoff.reset()
            await self._supervise(reader_task)
        finally:
            await self._teardown(reader_task, writer)

    async def _login(self) -> None:
        settings = self.settings
        login = Action(
            "Login", Username=settings.username, Secret=settings.secret, Events=settings.events_mask
        )
        try:
            await self._round_trip(login, settings.action_timeout, on_success=self._on_logged_in)
        except AmiActionError as exc:
            raise AmiLoginError(
                f"Asterisk refused AMI login of {settings.username!r}: "
                f"{exc.message.get('Message') or 'no reason given'}"
            ) from exc

    def _on_logged_in(self, _response: Message) -> None:
        """Runs inside the reader while routing the Login response: anything read after
        this point is queued behind the resync marker."""
        self._logged_in = True
        self._connected_since = datetime.now(UTC)
        self.stats.logins += 1
        if self.stats.logins > 1:
            self.stats.reconnects += 1
        log.info(
            "AMI logged in to %s:%d (AMI %s)", self.settings.host, self.settings.port, self._banner or "?"
        )
        self._set_state(AmiState.RESYNCING)
        self._enqueue(_Resync(self._generation, RESYNC_ON_LOGIN))

    async def _supervise(self, reader_task: asyncio.Task[None]) -> None:
        """Wait for the reader to end; meanwhile Ping so a dead link is noticed.

        A peer that stopped without closing (SIGSTOP, a cable pulled, a frozen VM) sends no FIN:
        only an unanswered Ping tells. It counts as dead when the Ping got no answer within
        `ping_timeout` AND nothing at all was read meanwhile (a busy but alive link is not cut)."""
        interval = self.settings.ping_interval or None
        loop = asyncio.get_running_loop()
        while True:
            done, _ = await asyncio.wait({reader_task}, timeout=interval)
            if done:
                reader_task.result()
                return
            try:
                await self.send(Action("Ping"), timeout=self.settings.ping_timeout)
            except AmiTimeout as exc:
                if loop.time() - self._last_read < self.settings.ping_timeout:
                    continue
                raise AmiNotConnected(f"keep-alive Ping unanswered: {exc}") from exc
            except AmiNotConnected:
                continue

    async def _read_loop(self, reader: asyncio.StreamReader, framer: AmiFramer) -> None:
        try:
            while True:
                data = await reader.read(self.settings.read_size)
                self._last_read = asyncio.get_running_loop().time()
                if not data:
                    raise AmiNotConnected("Asterisk closed the AMI connection")
                for message in framer.feed(data):
                    self._route(message)
                if framer.banner is not None:
                    self._banner = framer.banner
        except BaseException as exc:
            self._logged_in = False
            self._ready.clear()
            self._tracker.fail_all(AmiNotConnected(f"AMI connection lost: {exc!r}"))
            raise

    def _route(self, message: Message) -> None:
        if self._tracker.route(message):
            return
        if message.kind == KIND_EVENT:
            self.stats.events_received += 1
            self._enqueue(message)
        else:
            log.debug("AMI frame that is neither event nor response ignored: %r", message)

    def _enqueue(self, item: Message | _Resync) -> None:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self._overflow(item)

    def _overflow(self, item: Message | _Resync) -> None:
        """Listeners fell behind: drop the backlog (now stale) and queue a resync."""
        dropped = 1 if isinstance(item, Message) else 0
        while True:
            try:
                stale = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if isinstance(stale, Message):
                dropped += 1
        self.stats.events_dropped += dropped
        self.stats.queue_overflows += 1
        log.error(
            "AMI event queue full (%d): dropped %d events, resyncing from snapshots",
            self.settings.event_queue_size,
            dropped,
        )
        self._queue.put_nowait(_Resync(self._generation, RESYNC_ON_OVERFLOW))

    async def _teardown(self, reader_task: asyncio.Task[None], writer: asyncio.StreamWriter) -> None:
        reader_task.cancel()
        await asyncio.gather(reader_task, return_exceptions=True)
        was_logged_in = self._connected_since is not None
        self._logged_in = False
        self._connected_since = None
        self._writer = None
        self._ready.clear()
        if was_logged_in:
            self.stats.connection_losses += 1
            # Said now, before waiting for the socket to close (a frozen peer never answers).
            self._set_state(AmiState.BACKING_OFF)
        self._tracker.fail_all(AmiNotConnected("AMI connection closed"))
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), CLOSE_WAIT_SECONDS)

    # Dispatcher task -------------------------------------------------------------------
    async def _dispatch_loop(self) -> None:
        while True:
            item = await self._queue.get()
            if isinstance(item, _Resync):
                await self._resync(item)
            else:
                await self._deliver(item)

    async def _resync(self, marker: _Resync) -> None:
        if marker.generation != self._generation or not self._logged_in:
            log.debug("stale resync marker (%s) skipped", marker.reason)
            return
        self._ready.clear()
        self._set_state(AmiState.RESYNCING)
        log.info("AMI resync after %s: running %d login hooks", marker.reason, len(self._login_hooks))
        for hook in tuple(self._login_hooks):
            try:
                await hook(self)
            except AmiNotConnected:
                log.warning("AMI connection lost during resync; the next login will redo it")
                return
            except Exception:
                log.exception("AMI login hook %r failed", hook)
        if marker.generation == self._generation and self._logged_in:
            self.stats.resyncs += 1
            self._set_state(AmiState.CONNECTED)
            self._ready.set()

    async def _deliver(self, message: Message) -> None:
        for subscription in tuple(self._listeners):
            if not subscription.wants(message):
                continue
            try:
                result = subscription.callback(message)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("AMI listener %r failed on %s", subscription.callback, message.name)

    def _set_state(self, state: AmiState) -> None:
        if state is self._state:
            return
        self._state = state
        for callback in tuple(self._state_listeners):
            try:
                callback(state)
            except Exception:
                log.exception("AMI state listener %r failed", callback)

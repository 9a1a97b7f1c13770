"""The live picture of the hall: AMI events, in order, through the pure state machines.

After every login the picture is rebuilt from Asterisk's own answers (QueueStatus,
CoreShowChannels, DeviceStateList, PJSIPShowContacts) before any later event is applied,
so a reconnect or an Asterisk restart never leaves a stale seat behind.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hotline.tasks import cancel_and_wait
from seat_manager.state import SeatChange, SeatView
from telephony.ami import AmiActionError, AmiClient, AmiError, AmiNotConnected, AmiState, complete_event_for
from telephony.ami.message import Message
from telephony.live_counters import DayStats, HallStats
from telephony.picture import HallPicture

log = logging.getLogger(__name__)

# Snapshots taken on every login, in this order; each is an event-list action.
RESYNC_ACTIONS = ("PJSIPShowContacts", "DeviceStateList", "QueueStatus", "CoreShowChannels")
# Pauses between attempts when a resync is refused while the link stays up: right after a
# restart Asterisk takes logins before its modules are loaded ("Invalid/unknown command:
# DeviceStateList"), and an incomplete picture would stay stale, showing the seats as they were
# before the restart, until the next login. About 20 s in all; then the picture stays stale.
RESYNC_RETRY_PAUSES_S = (0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 5.0)
TICK_SECONDS = 1.0
# While the client is in these states the events flow (or are being rebuilt): anything else
# means the picture is no longer followed.
LIVE_STATES = frozenset({AmiState.RESYNCING, AmiState.CONNECTED})
EMPTY_LIST = re.compile(r"^No \w+ found", re.IGNORECASE)


class HallListener(Protocol):
    """Told about every applied event and the seat changes it caused (recorder, live stream)."""

    def __call__(self, event: Mapping[str, str] | None, changes: list[SeatChange],
                 now: datetime) -> None: ...


@dataclass(frozen=True)
class Follower:
    """A service that reads the hall's picture on every event it gets (the three-way service)."""

    on_event: Callable[[Message], Awaitable[None]]
    events: frozenset[str]
    """Lower-case event names wanted."""
    on_resync: Callable[[AmiClient], Awaitable[None]]


@dataclass
class PbxInfo:
    version: str | None = None
    startup: datetime | None = None
    reloaded: datetime | None = None


class HallMonitor:
    """Feeds the AMI stream, in order, into the hall's picture and counters; tells listeners.

    Also the seats' `SeatPicture` port (seat_manager.ports): a seat as now, and a wait for the
    next events, so the seat service confirms what Asterisk did without importing telephony."""

    def __init__(self, client: AmiClient, picture: HallPicture, stats: HallStats,
                 clock: Callable[[], datetime]) -> None:
        self.client = client
        self.picture = picture
        self.stats = stats
        self.clock = clock
        self.pbx = PbxInfo()
        self.resyncs = 0
        self.events_applied = 0
        self._listeners: list[HallListener] = []
        self._day_listeners: list[Callable[[DayStats], None]] = []
        self._followers: list[Follower] = []
        self._changed = asyncio.Condition()
        self._tick_task: asyncio.Task[None] | None = None
        client.add_listener(self._on_event)
        client.add_login_hook(self._on_login)
        client.add_state_listener(self._on_link_state)
        picture.mark_stale(clock())  # nothing heard from Asterisk yet

    def _on_link_state(self, state: AmiState) -> None:
        """Losing the link makes the picture stale at once; only a full resync makes it fresh."""
        if state in LIVE_STATES or self.picture.stale_since is not None:
            return
        now = self.clock()
        self.picture.mark_stale(now)
        log.warning("AMI link lost: the hall picture is stale from now on")
        self._publish(None, [], now, None)

    def add_listener(self, listener: HallListener) -> None:
        self._listeners.append(listener)

    def follow(self, on_event: Callable[[Message], Awaitable[None]], events: Iterable[str],
               on_resync: Callable[[AmiClient], Awaitable[None]]) -> None:
        """Hand `events` to `on_event` only after this monitor applied them to the picture, and
        call `on_resync` after every rebuild of the picture (after each login).

        Why: the three-way service looks channels and bridges up in the call book, so it must
        see each event's effect and resume on the rebuilt picture. It used to register on the AMI
        client itself and was right only because the hall happened to build it after the
        monitor; dispatching from here makes the order a rule (tests/telephony/test_monitor_followers.py).
        """
        self._followers.append(Follower(on_event, frozenset(e.lower() for e in events), on_resync))

    def add_day_listener(self, listener: Callable[[DayStats], None]) -> None:
        """Told with the closed day's figures when the local day rolls over."""
        self._day_listeners.append(listener)

    async def start(self) -> None:
        self._tick_task = asyncio.create_task(self._tick_loop(), name="hall-tick")

    async def stop(self) -> None:
        await cancel_and_wait(self._tick_task)
        self._tick_task = None

    def seat(self, seat_id: str) -> SeatView | None:
        """One seat as the picture has it now."""
        return self.picture.seat(seat_id)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until the picture satisfies `predicate` (re-checked after every event)."""
        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(predicate)
            except TimeoutError:
                return predicate()
        return True

    # Event path ---------------------------------------------------------------------------
    async def _on_event(self, message: Message) -> None:
        now = self.clock()
        changes = self.picture.apply(message, now)
        closed = self.stats.apply(message, now)
        self.events_applied += 1
        self._publish(message, changes, now, closed)
        await self._notify()
        name = (message.name or "").lower()
        for follower in self._followers:
            if name in follower.events:
                try:
                    await follower.on_event(message)
                except Exception:
                    log.exception("hall follower failed on %s", message.name)

    async def _on_login(self, client: AmiClient) -> None:
        """Rebuild the picture, then let the followers resume on it (in this order). A rebuild
        Asterisk refused is tried again (RESYNC_RETRY_PAUSES_S) while the link stays up; the
        events that arrive meanwhile wait, as they do during any resync."""
        for pause in (*RESYNC_RETRY_PAUSES_S, None):
            if await self._resync(client) or pause is None or not client.connected:
                break
            log.warning("resync refused by Asterisk; trying again in %.1f s", pause)
            await asyncio.sleep(pause)
        for follower in self._followers:
            try:
                await follower.on_resync(client)
            except AmiNotConnected:
                raise  # the client redoes every login hook on the next login
            except Exception:
                log.exception("hall follower failed to resume")

    async def _resync(self, client: AmiClient) -> bool:
        """Replace every fact with Asterisk's own answers, then resume the event stream; whether
        every answer came (only then is the picture fresh)."""
        self.picture.begin_snapshot()
        self.stats.begin_snapshot()
        changes: list[SeatChange] = []
        complete = False
        try:
            await self._read_pbx_info(client)
            for action in RESYNC_ACTIONS:
                for event in await snapshot(client, action):
                    now = self.clock()
                    changes += self.picture.apply(event, now)
                    self.stats.apply(event, now)
            complete = True
        except AmiError as exc:
            log.warning("resync incomplete: %s", exc)
        finally:
            now = self.clock()
            changes += self.picture.end_snapshot(now)
            if complete:
                self.picture.mark_fresh()
            closed = self.stats.end_snapshot(now)
            self.resyncs += 1
            log.info("hall picture rebuilt from Asterisk (%d seat changes)", len(changes))
            self._publish(None, changes, now, closed)
            await self._notify()
        return complete

    async def _read_pbx_info(self, client: AmiClient) -> None:
        settings = await client.send_action("CoreSettings")
        status = await client.send_action("CoreStatus")
        self.pbx.version = settings.get("AsteriskVersion")
        self.pbx.startup = _parse_pbx_time(status.get("CoreStartupDate"), status.get("CoreStartupTime"))
        self.pbx.reloaded = _parse_pbx_time(status.get("CoreReloadDate"), status.get("CoreReloadTime"))

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = self.clock()
            changes = self.picture.tick(now)
            closed = self.stats.tick(now)
            if changes or closed:
                self._publish(None, changes, now, closed)
                await self._notify()

    def _publish(self, event: Mapping[str, str] | None, changes: list[SeatChange], now: datetime,
                 closed: DayStats | None) -> None:
        for listener in self._listeners:
            try:
                listener(event, changes, now)
            except Exception:
                log.exception("hall listener failed")
        if closed is not None:
            for day_listener in self._day_listeners:
                try:
                    day_listener(closed)
                except Exception:
                    log.exception("day listener failed")

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


async def snapshot(client: AmiClient, action: str) -> list[Message]:
    """The list an action returns, closed by its Complete event.

    Some actions answer an empty list with an error ("No Contacts found"); that is still a
    complete, empty answer, so the machines may forget what is no longer there.
    """
    try:
        response = await client.send_action(action)
    except AmiActionError as exc:
        complete = complete_event_for(action)
        if complete is None or not EMPTY_LIST.search(exc.message.get("Message") or ""):
            raise
        return [Message([("Event", complete), ("EventList", "Complete"), ("ListItems", "0")])]
    return [*response.events, *([response.complete] if response.complete else [])]


def _parse_pbx_time(day: str | None, clock: str | None) -> datetime | None:
    """Asterisk reports its start as local date + time strings."""
    if not day or not clock:
        return None
    try:
        return datetime.fromisoformat(f"{day}T{clock}").astimezone()
    except ValueError:
        return None

"""The running bridge: one AMI client, the hall's live picture, its recorder and services.

Built once by the composition root (hotline/wiring.py). The hall's own routes (calls, three-way)
reach it through `request.app.state.hall`; seats and callbacks get only the ports they need
(`wiring.attach_bridge`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Protocol

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from hotline.config import HotlineConfig
from seat_manager.deps import SeatFloor
from seat_manager.directory import SeatDirectory
from seat_manager.service import SeatService, build_directory
from telephony.ami import AmiClient, AmiSettings
from telephony.live_counters import HallStats
from telephony.models import FIRST_PBX
from telephony.monitor import HallMonitor
from telephony.picture import HallPicture
from telephony.recorder import HallRecorder, load_today
from telephony.seat_ports import AmiQueueControl
from telephony.threeway.service import ThreeWayService

log = logging.getLogger(__name__)


class BridgeLease(Protocol):
    """What the hall needs of the lease on its PBX's bridge (hotline.cluster.BridgeLease, which
    wiring hands in): whether this node holds it, its mode, and news of gaining and losing it."""

    held: bool
    single: bool
    stopping: bool
    on_acquired: list[Callable[[], Awaitable[None]]]
    on_lost: list[Callable[[], Awaitable[None]]]


class Component(Protocol):
    """A part that starts and stops with the bridge lease (hotline.api.lifespan's shape)."""

    async def start(self, app: Any) -> None: ...

    async def stop(self) -> None: ...

CONNECT_WAIT_S = 5.0


def ami_settings(config: HotlineConfig) -> AmiSettings:
    return AmiSettings(host=config.ami.host, port=config.ami.port, username=config.ami.username,
                       secret=config.ami.secret, action_timeout=config.ami.action_timeout)


class Hall:
    """Satisfies the API's AmiStatus protocol and the lifespan's Component protocol.

    One per PBX: `config` is that PBX's view (HotlineConfig.for_pbx), its seats only.
    """

    name = "hall"

    def __init__(self, config: HotlineConfig, sessions: sessionmaker[Session] | None,
                 client: AmiClient | None = None) -> None:
        self.config = config
        self.pbx, self.display_name = config.first_pbx, config.first_pbx_display or config.hall.name
        if self.pbx != FIRST_PBX:
            self.name = f"hall-{self.pbx}"
        self.tz = config.hall.tz
        self.directory: SeatDirectory = build_directory(config)
        self.client = client or AmiClient(ami_settings(config))
        self.picture = HallPicture(self.directory, config.queue.wrapup_seconds)
        self.calls = self.picture.calls
        """The call model: the hall owns it; the seat board reads it."""
        self.board = self.picture.board
        self.stats = self._restore_stats(sessions)
        self.monitor = HallMonitor(self.client, self.picture, self.stats, self.now)
        # The seats' ports: the queue over AMI, the picture through the monitor.
        self.seats = SeatService(config, AmiQueueControl(self.client), self.monitor, self.directory)
        # The three-way service follows the monitor: it sees each event after the picture did.
        self.threeway = ThreeWayService(config, self.client, self.monitor, sessions, self.now)
        self.recorder = (HallRecorder(sessions, self.board, self.stats, self.now, self.pbx)
                         if sessions else None)
        if self.recorder is not None:
            self.monitor.add_listener(self.recorder)
        self._lease: BridgeLease | None = None
        self._writers: tuple[Component, ...] = ()
        self._started = False

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def seat_floor(self) -> SeatFloor:
        """This PBX's seats as the seat routes are handed them (seat_manager.deps)."""
        return SeatFloor(self.board, self.seats, self.pbx, self.display_name)

    def _restore_stats(self, sessions: sessionmaker[Session] | None) -> HallStats:
        seat_of = self.directory.seat_id_for_member
        threshold = self.config.queue.service_level_seconds
        if sessions is not None:
            saved = load_today(sessions, self.now().date(), self.pbx)
            if saved is not None:
                try:
                    return HallStats.from_dict(saved, seat_of)
                except ValueError:
                    log.warning("today's saved counters are unreadable; starting from zero")
        return HallStats(threshold, seat_of)

    # AmiStatus --------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self.client.connected

    @property
    def last_error(self) -> str | None:
        return self.client.last_error

    @property
    def stale_since(self) -> datetime | None:
        """Since when the seat picture is not followed live (None while it is)."""
        return self.board.stale_since

    @property
    def connected_since(self) -> datetime | None:
        return self.client.connected_since

    @property
    def pbx_version(self) -> str | None:
        return self.monitor.pbx.version

    @property
    def pbx_uptime_seconds(self) -> float | None:
        started = self.monitor.pbx.startup
        if started is None or not self.connected:
            return None
        return max(0.0, (self.now() - started).total_seconds())

    # Component --------------------------------------------------------------------------
    # Several nodes ------------------------------------------------------------------------
    def follow_lease(self, lease: BridgeLease, writers: Sequence[Component] = ()) -> None:
        """Write only while this node holds `lease` (hotline.cluster): the recorder, `writers`
        (the queue_log books) and the take-up of stored three-way sessions. The picture is
        followed all the time, so a node that takes the bridge over has it up to date. A single
        node (SQLite) holds it from the start and writes exactly as it always did."""
        self._lease = lease
        self._writers = tuple(writers)
        lease.on_acquired.append(self._begin_writing)
        lease.on_lost.append(self._end_writing)
        if lease.single:
            return
        if self.recorder is not None:
            self.recorder.holding = False
        self.threeway.takes_up_stored = lambda: lease.held

    async def _begin_writing(self) -> None:
        shared = self._lease is not None and not self._lease.single
        if shared and self.recorder is not None:
            await self.recorder.take_over()
        for writer in self._writers:
            await writer.start(None)
        if shared and self.client.connected:
            await self.threeway.resume(self.client)

    async def _end_writing(self) -> None:
        """Stop every write at once, then drop the AMI link: the picture is rebuilt from
        Asterisk on the reconnect, as on every connect."""
        stopping = self._lease is not None and self._lease.stopping
        if stopping and self._lease is not None and self._lease.single:
            for writer in reversed(self._writers):  # the recorder stops with the hall, as always
                await writer.stop()
            return
        if self.recorder is not None:
            if stopping:  # a clean shutdown: write everything first, then hand the lease back
                await self.recorder.stop()
            await self.recorder.hand_over()
        for writer in reversed(self._writers):
            await writer.stop()
        if self._started and not stopping:
            await self.client.stop()
            await self.client.start()

    async def start(self, app: FastAPI) -> None:
        if getattr(app.state, "hall", None) is None:
            app.state.hall = self
        self._started = True
        if self.recorder is not None and self.recorder.holding:
            await self.recorder.start()
        await self.monitor.start()
        await self.client.start()
        try:
            await self.client.wait_connected(CONNECT_WAIT_S)
        except TimeoutError:
            log.warning("AMI not connected yet (%s); retrying in the background",
                        self.client.last_error)

    async def stop(self) -> None:
        self._started = False
        await self.client.stop()
        await self.monitor.stop()
        if self.recorder is not None and self.recorder.holding:
            await self.recorder.stop()


class Halls:
    """Every PBX's Hall, the first first. A 工号 is unique over all PBXs, so a seat's hall is found
    by its id alone; routes reach this through `request.app.state.halls`."""

    def __init__(self, halls: list[Hall]) -> None:
        self._halls = tuple(halls)

    def __iter__(self) -> Iterator[Hall]:
        return iter(self._halls)

    def __len__(self) -> int:
        return len(self._halls)

    @property
    def first(self) -> Hall:
        return self._halls[0]

    def named(self, pbx: str) -> Hall | None:
        return next((h for h in self._halls if h.pbx == pbx), None)

    def of_seat(self, seat_id: str) -> Hall | None:
        return next((h for h in self._halls if seat_id in h.directory), None)

    # AmiStatus of every PBX together: /api/health is "ok" only while each link is up ---------
    @property
    def connected(self) -> bool:
        return all(h.connected for h in self._halls)

    @property
    def last_error(self) -> str | None:
        errors = [(h, h.last_error) for h in self._halls if not h.connected and h.last_error]
        if len(self._halls) == 1:
            return self.first.last_error
        return "；".join(f"{h.display_name}（{h.pbx}）：{error}" for h, error in errors) or None

    @property
    def connected_since(self) -> datetime | None:
        """Since when every link is up (the latest to connect)."""
        since = [h.connected_since for h in self._halls]
        return None if any(s is None for s in since) else max(s for s in since if s is not None)

    @property
    def stale_since(self) -> datetime | None:
        stale = [h.stale_since for h in self._halls if h.stale_since is not None]
        return min(stale) if stale else None

    @property
    def pbx_version(self) -> str | None:
        return self.first.pbx_version

    @property
    def pbx_uptime_seconds(self) -> float | None:
        uptimes = [h.pbx_uptime_seconds for h in self._halls]
        return None if any(u is None for u in uptimes) else min(u for u in uptimes if u is not None)

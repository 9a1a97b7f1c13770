"""The running bridge: one AMI client, the hall's live picture, its recorder and services.

Built once by the composition root (hotline/wiring.py) and reached by the API routes through
`request.app.state.hall`.
"""

from __future__ import annotations

import logging
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from hotline.config import HotlineConfig
from seat_manager.directory import SeatDirectory
from seat_manager.service import SeatService, build_directory
from seat_manager.state import SeatBoard
from telephony.ami import AmiClient, AmiSettings
from telephony.monitor import HallMonitor
from telephony.recorder import HallRecorder, load_today
from telephony.stats import HallStats
from telephony.threeway.service import ThreeWayService

log = logging.getLogger(__name__)

CONNECT_WAIT_S = 5.0


def ami_settings(config: HotlineConfig) -> AmiSettings:
    return AmiSettings(host=config.ami.host, port=config.ami.port, username=config.ami.username,
                       secret=config.ami.secret, action_timeout=config.ami.action_timeout)


class Hall:
    """Satisfies the API's AmiStatus protocol and the lifespan's Component protocol."""

    name = "hall"

    def __init__(self, config: HotlineConfig, sessions: sessionmaker[Session] | None,
                 client: AmiClient | None = None) -> None:
        self.config = config
        self.tz = config.hall.tz
        self.directory: SeatDirectory = build_directory(config)
        self.client = client or AmiClient(ami_settings(config))
        self.board = SeatBoard(self.directory, config.queue.wrapup_seconds)
        self.stats = self._restore_stats(sessions)
        self.monitor = HallMonitor(self.client, self.board, self.stats, self.now)
        self.seats = SeatService(config, self.client, self.monitor, self.directory)
        self.threeway = ThreeWayService(config, self.client, self.monitor, sessions, self.now)
        self.recorder = HallRecorder(sessions, self.board, self.stats, self.now) if sessions else None
        if self.recorder is not None:
            self.monitor.add_listener(self.recorder)

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def _restore_stats(self, sessions: sessionmaker[Session] | None) -> HallStats:
        seat_of = self.directory.seat_id_for_member
        threshold = self.config.queue.service_level_seconds
        if sessions is not None:
            saved = load_today(sessions, self.now().date())
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
    async def start(self, app: FastAPI) -> None:
        app.state.hall = self
        if self.recorder is not None:
            await self.recorder.start()
        await self.monitor.start()
        await self.client.start()
        try:
            await self.client.wait_connected(CONNECT_WAIT_S)
        except TimeoutError:
            log.warning("AMI not connected yet (%s); retrying in the background",
                        self.client.last_error)

    async def stop(self) -> None:
        await self.client.stop()
        await self.monitor.stop()
        if self.recorder is not None:
            await self.recorder.stop()

"""While the AMI link is down the hall picture says it is stale (issue 13: outages were
invisible): the board, every seat view and the listeners learn it at once, and a complete
resync makes the picture fresh again. A real client against the loopback replay server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime

import pytest

from seat_manager.directory import Seat, SeatDirectory
from seat_manager.state import SeatChange
from telephony.ami import AmiClient, AmiSettings
from telephony.ami.testing import TEST_SECRET, TEST_USER, ReplayAmiServer
from telephony.live_counters import HallStats
from telephony.monitor import HallMonitor
from telephony.picture import HallPicture
from tests.ami_transcripts import empty_pbx_server

WAIT = 5.0
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture
async def server() -> AsyncIterator[ReplayAmiServer]:
    replay = await empty_pbx_server()
    yield replay
    await replay.close()


async def until(predicate: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_the_picture_is_stale_while_the_link_is_down(server: ReplayAmiServer) -> None:
    client = AmiClient(AmiSettings(host="127.0.0.1", port=server.port, username=TEST_USER,
                                   secret=TEST_SECRET, backoff_initial=0.3, backoff_max=0.3,
                                   ping_interval=0))
    board = HallPicture(SeatDirectory([Seat("01", "seat01", "seat01", "PJSIP/seat01", "PJSIP/seat01")]), 0)
    clock = iter(T0.replace(second=n) for n in range(60))
    monitor = HallMonitor(client, board, HallStats(), lambda: next(clock))
    seen: list[datetime | None] = []

    def listener(event: Mapping[str, str] | None, changes: list[SeatChange], now: datetime) -> None:
        seen.append(board.stale_since)

    monitor.add_listener(listener)
    assert board.stale_since == T0  # nothing heard from Asterisk yet
    await client.start()
    try:
        await client.wait_connected(WAIT)
        assert board.stale_since is None
        view = board.seat("01")
        assert view is not None and view.stale_since is None
        seen.clear()
        server.cut()
        await until(lambda: board.stale_since is not None)  # the loss marks it stale
        view = board.seat("01")
        assert view is not None and view.stale_since == board.stale_since
        assert seen and seen[0] == board.stale_since  # the listeners (live feed) were told
        await until(lambda: board.stale_since is None)  # the resync makes it fresh
        assert seen[-1] is None
    finally:
        await client.stop()

"""The three-way service depends on the hall monitor having applied an event before it looks the
channel up, and on the picture being rebuilt before it resumes: the monitor states that order by
dispatching to its followers itself. A follower registered on the monitor sees the event applied
and the picture fresh, even when another listener was put on the client before the monitor
existed (which is what the old registration order could not rule out). A real client against the
loopback replay server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest

from seat_manager.directory import Seat, SeatDirectory
from telephony.ami import AmiClient, AmiSettings
from telephony.ami.message import Message
from telephony.ami.testing import TEST_SECRET, TEST_USER, ReplayAmiServer
from telephony.live_counters import HallStats
from telephony.monitor import HallMonitor
from telephony.picture import HallPicture
from tests.ami_transcripts import empty_pbx_server

WAIT = 5.0
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CHANNEL = "PJSIP/trunk-00000001"
NEWCHANNEL = (f"Event: Newchannel\r\nChannel: {CHANNEL}\r\nChannelState: 4\r\n"
              "ChannelStateDesc: Ring\r\nCallerIDNum: 13800000000\r\nUniqueid: 1.1\r\n"
              "Linkedid: 1.1\r\nContext: from-trunk\r\nExten: 12345\r\n").encode()


@pytest.fixture
async def server() -> AsyncIterator[ReplayAmiServer]:
    replay = await empty_pbx_server()
    yield replay
    await replay.close()


async def until(predicate: Callable[[], bool]) -> None:
    async with asyncio.timeout(WAIT):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_a_follower_sees_each_event_applied_and_resumes_on_the_rebuilt_picture(
        server: ReplayAmiServer) -> None:
    client = AmiClient(AmiSettings(host="127.0.0.1", port=server.port, username=TEST_USER,
                                   secret=TEST_SECRET, ping_interval=0))
    picture = HallPicture(SeatDirectory([Seat("01", "seat01", "seat01", "PJSIP/seat01", "PJSIP/seat01")]), 0)
    raw: list[bool] = []  # on the client before the monitor: the order the old wiring risked
    client.add_listener(lambda _m: raw.append(picture.calls.channel_by_name(CHANNEL) is not None),
                        events=["Newchannel"])
    clock = iter(T0.replace(second=n % 60, minute=n // 60) for n in range(3600))
    monitor = HallMonitor(client, picture, HallStats(), lambda: next(clock))
    seen: list[bool] = []
    resumed: list[datetime | None] = []

    async def on_event(message: Message) -> None:
        seen.append(picture.calls.channel_by_name(CHANNEL) is not None)

    async def on_resync(_client: AmiClient) -> None:
        resumed.append(picture.stale_since)

    monitor.follow(on_event, ["Newchannel"], on_resync)
    await client.start()
    try:
        await client.wait_connected(WAIT)
        assert resumed == [None]  # after the rebuild: the picture is fresh
        server.push([NEWCHANNEL, b"Event: Hangup\r\nChannel: x\r\nUniqueid: 9.9\r\nLinkedid: 9.9"])
        await until(lambda: bool(seen) and bool(raw))
        assert raw == [False]  # a listener registered before the monitor runs too early
        assert seen == [True]  # the follower: once, only the events it named, after the monitor
    finally:
        await client.stop()

"""Callbacks with several PBXs: a seat is checked on, and its phone rung through, its own PBX's
hall (the dialler was the first hall's only, so a west seat's callback went to the main PBX).
Real AMI clients against two loopback replay servers, one per PBX."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.config import load_config
from telephony.ami import AmiClient, AmiSettings
from telephony.ami.testing import TEST_SECRET, TEST_USER, ReplayAmiServer, simple_response
from telephony.callback_dial import HallsCallbackDialler
from telephony.hall import Hall, Halls
from tests.ami_transcripts import empty_pbx_server
from tests.two_halls import two_hall_conf

WAIT = 5.0


class Refused(Exception):
    """Stands for the callback port's DialFailed (telephony does not import voicemail)."""


async def _server() -> ReplayAmiServer:
    replay = await empty_pbx_server()  # answers the hall's resync, as an idle PBX would
    replay.handlers["originate"] = lambda a: [simple_response(a, Message="Originate successfully queued")]
    return replay


@pytest.fixture
async def pbxs() -> AsyncIterator[dict[str, ReplayAmiServer]]:
    servers = {"main": await _server(), "west": await _server()}
    yield servers
    for server in servers.values():
        await server.close()


async def test_each_seat_is_rung_through_its_own_pbx(tmp_path: Path,
                                                     pbxs: dict[str, ReplayAmiServer]) -> None:
    config = load_config(two_hall_conf(tmp_path / "hall"),
                         overrides={"database.url": f"sqlite:///{tmp_path}/dial.db"})
    halls = Halls([Hall(config.for_pbx(pbx.name), None, AmiClient(AmiSettings(
        host="127.0.0.1", port=pbxs[pbx.name].port, username=TEST_USER, secret=TEST_SECRET,
        ping_interval=0))) for pbx in config.pbxes])
    for hall in halls:
        await hall.client.start()
    try:
        for hall in halls:
            await hall.client.wait_connected(WAIT)
        dialler = HallsCallbackDialler(halls, Refused)
        await dialler.ring_seat_then_citizen("1061", "13800001111", 7)  # seat 61, on west
        await dialler.ring_seat_then_citizen("1007", "13800002222", 8)  # seat 07, on main
        west, main = pbxs["west"].actions("Originate"), pbxs["main"].actions("Originate")
        assert [(a.get("Exten"), a.get("Channel")) for a in west] == [("13800001111", "PJSIP/1061")]
        assert [(a.get("Exten"), a.get("Channel")) for a in main] == [("13800002222", "PJSIP/1007")]
        # A west seat is read on west's board (offline there; the main board does not know it).
        assert dialler.seat_busy("61") == "offline"
    finally:
        for hall in halls:
            await hall.client.stop()

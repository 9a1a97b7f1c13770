"""Three-way call support: the expert's whisper, quiet conference rooms, BridgeAdd."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr.names import member_interface, state_interface
from tests.ivr.audio_match import find_exact, samples
from tests.ivr.calls import call_hotline, prompt_seconds
from tests.ivr.pbx import IvrPbx
from tests.ivr.phones import expert_phone, seat_phone

pytestmark = pytest.mark.pbx

G711 = ("alaw", "ulaw")
ROOM = "4242"
OPEN = "2026-11-26T10:00"


async def test_only_the_expert_hears_the_whisper(pbx: IvrPbx, tmp_path: Path) -> None:
    ami = await pbx.ami()
    operator_side = f"{pbx.data_dir}/operator-side"
    whisper = pbx.out_dir / "sounds" / "hotline" / "threeway-whisper.wav"
    async with expert_phone(pbx, "2001", tmp_path / "phones") as expert:
        await ami.originate("Local/2001@hotline-expert/n", Application="Record",
                            Data=f"{operator_side}.wav,0,30,qk")
        await expert.wait_for("CALL_ESTABLISHED")
        await asyncio.sleep(prompt_seconds(pbx, "threeway-whisper") + 2.0)
        await expert.hangup()
        await expert.wait_for("CALL_CLOSED")
        heard = (await expert.finished_recordings())[-1]
    assert find_exact(samples(heard), samples(whisper), G711) is not None
    assert find_exact(samples(pbx.host_path(f"{operator_side}.wav")), samples(whisper)) is None


async def test_conference_room_has_an_admin_operator_and_stays_quiet(pbx: IvrPbx) -> None:
    ami = await pbx.ami()
    start = len(ami.events)
    for context in ("hotline-threeway", "hotline-threeway", "hotline-threeway-operator"):
        await ami.originate(f"Local/{ROOM}@{context}/n", Application="Wait", Data="15")
    index = start
    for _ in range(3):
        join = await ami.wait_event(lambda e: e.get("Event") == "ConfbridgeJoin", start=index)
        index = ami.events.index(join) + 1
    listing = [m for m in await ami.send("ConfbridgeList", Conference=ROOM)
               if m.get("Event") == "ConfbridgeList"]
    assert len(listing) == 3
    admins = sorted((m["Admin"], m["MarkedUser"]) for m in listing)
    assert admins == [("No", "No"), ("No", "No"), ("Yes", "Yes")]
    channels = [m for m in await ami.send("CoreShowChannels")
                if m.get("Event") == "CoreShowChannel"]
    assert not [c for c in channels if c["Channel"].startswith("CBAnn/")]
    await ami.action("ConfbridgeKick", Conference=ROOM, Channel="all")
    await ami.wait_event(lambda e: e.get("Event") == "ConfbridgeEnd", start=start)


async def test_bridge_join_adds_a_third_party_to_a_call(pbx: IvrPbx, tmp_path: Path) -> None:
    ami = await pbx.ami()
    seat = pbx.config.seat("07")
    assert seat is not None
    async with seat_phone(pbx, "07", tmp_path / "phones") as phone:
        await ami.action("QueueAdd", Queue="hotline", Interface=member_interface("07"),
                         StateInterface=state_interface(seat.extension), MemberName="07")
        try:
            start = len(ami.events)
            await call_hotline(ami, pbx.local_time(OPEN), data="60")
            await ami.wait_event(lambda e: e.get("Event") == "AgentConnect", timeout=40,
                                 start=start)
            await phone.wait_for("CALL_ESTABLISHED")
            await asyncio.sleep(prompt_seconds(pbx, "operator-07") + 1.0)
            channels = [m for m in await ami.send("CoreShowChannels")
                        if m.get("Event") == "CoreShowChannel"]
            seat_channel = next(c for c in channels
                                if c["Channel"].startswith(f"PJSIP/{seat.extension}-"))
            bridge = seat_channel["BridgeId"]
            assert bridge
            await ami.originate("Local/s@hotline-bridge-join/n", Application="Wait", Data="5",
                                Variable=f"HOTLINE_JOIN_CHANNEL={seat_channel['Channel']}")
            joined = await ami.wait_event(
                lambda e: e.get("Event") == "BridgeEnter" and e.get("BridgeUniqueid") == bridge
                and e.get("Channel", "").startswith("Local/s@hotline-bridge-join"), start=start)
            assert int(joined["BridgeNumChannels"]) == 3
            await phone.hangup()
            await phone.wait_for("CALL_CLOSED")
        finally:
            await ami.send("QueueRemove", Queue="hotline", Interface=member_interface("07"))

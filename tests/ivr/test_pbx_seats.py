"""Seats answering hotline calls: the caller hears "XX号工作人员为您服务", or picks a 工号."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.phones import BaresipPhone
from hotline.phones.audio import analyse
from ivr.names import member_interface, state_interface
from telephony.ami.testing import AmiSession, user_event
from tests.ivr.audio_match import find_exact, samples
from tests.ivr.calls import call_hotline, prompt_seconds
from tests.ivr.pbx import IvrPbx
from tests.ivr.phones import OPEN_CITIZEN, citizen_phone, seat_phone

pytestmark = pytest.mark.pbx

OPEN = "2026-11-26T10:00"  # a Thursday morning
TALK_SECONDS = 5.0
CONNECT_TIMEOUT_S = 40
G711 = ("alaw", "ulaw")


async def log_in(ami: AmiSession, pbx: IvrPbx, seat_id: str, *, paused: bool = False) -> None:
    """What the service does when an operator logs in: a dynamic member per seat."""
    seat = pbx.config.seat(seat_id)
    assert seat is not None
    await ami.action("QueueAdd", Queue=pbx.config.queue.name,
                     Interface=member_interface(seat_id),
                     StateInterface=state_interface(seat.extension), MemberName=seat_id,
                     Paused="true" if paused else "false")


async def log_out(ami: AmiSession, pbx: IvrPbx, *seat_ids: str) -> None:
    for seat_id in seat_ids:
        await ami.send("QueueRemove", Queue=pbx.config.queue.name,
                       Interface=member_interface(seat_id))


def prompt(pbx: IvrPbx, name: str) -> Path:
    return pbx.out_dir / "sounds" / "hotline" / f"{name}.wav"


async def test_queue_caller_hears_the_operator_id_and_the_seat_does_not(
        pbx: IvrPbx, tmp_path: Path) -> None:
    ami = await pbx.ami()
    heard = f"{pbx.data_dir}/heard-queue"
    try:
        async with seat_phone(pbx, "01", tmp_path / "phones") as seat:
            await log_in(ami, pbx, "01")
            start = len(ami.events)
            await call_hotline(ami, pbx.local_time(OPEN), application="Record",
                               data=f"{heard}.wav,0,60,qk")
            connect = await ami.wait_event(lambda e: e.get("Event") == "AgentConnect",
                                           timeout=CONNECT_TIMEOUT_S, start=start)
            assert (connect["MemberName"], connect["Interface"]) == ("01", member_interface("01"))
            await seat.wait_for("CALL_ESTABLISHED")
            await asyncio.sleep(TALK_SECONDS)
            await seat.hangup()
            await seat.wait_for("CALL_CLOSED")
            seat_heard = (await seat.finished_recordings())[-1]
    finally:
        await log_out(ami, pbx, "01")
    caller = samples(pbx.host_path(f"{heard}.wav"))
    greeting = find_exact(caller, samples(prompt(pbx, "greeting")))
    named = find_exact(caller, samples(prompt(pbx, "named-operator")))
    operator = find_exact(caller, samples(prompt(pbx, "operator-01")))
    assert greeting == 0.0
    assert named is not None and operator is not None and named < operator
    assert find_exact(caller, samples(prompt(pbx, "operator-02"))) is None
    assert analyse(seat_heard).active_s < 0.5, "the seat must not hear the announcement"


async def test_sip_citizen_hears_the_operator_id(pbx: IvrPbx, tmp_path: Path) -> None:
    ami = await pbx.ami()
    try:
        async with seat_phone(pbx, "03", tmp_path / "phones") as seat, \
                citizen_phone(pbx, OPEN_CITIZEN, tmp_path / "phones") as citizen:
            await log_in(ami, pbx, "03")
            start = len(ami.events)
            await citizen.dial("12345")
            route = await ami.wait_event(user_event("HotlineRoute"), start=start)
            assert route["Route"] == "open"
            await ami.wait_event(lambda e: e.get("Event") == "AgentConnect",
                                 timeout=CONNECT_TIMEOUT_S, start=start)
            await seat.wait_for("CALL_ESTABLISHED")
            await asyncio.sleep(TALK_SECONDS)
            await citizen.hangup()
            await citizen.wait_for("CALL_CLOSED")
            recording = (await citizen.finished_recordings())[-1]
    finally:
        await log_out(ami, pbx, "03")
    heard = samples(recording)
    at = find_exact(heard, samples(prompt(pbx, "operator-03")), G711)
    assert at is not None and at > find_exact(heard, samples(prompt(pbx, "greeting")), G711)
    assert find_exact(heard, samples(prompt(pbx, "operator-02")), G711) is None


async def _key_in(pbx: IvrPbx, ami: AmiSession, citizen: BaresipPhone, keys: str,
                  after_s: float | None = None) -> int:
    """Dial 12345 and key `keys` `after_s` seconds into the call (default: during the 工号
    prompt); the event index the call started at."""
    start = len(ami.events)
    await citizen.dial("12345")
    route = await ami.wait_event(user_event("HotlineRoute"), start=start)
    assert route["Route"] == "open"
    await asyncio.sleep(prompt_seconds(pbx, "greeting") + 1.0 if after_s is None else after_s)
    await citizen.send_dtmf(keys)
    return start


@pytest.mark.parametrize("during", ["named-prompt", "greeting"])
async def test_keyed_operator_is_rung_directly(pbx: IvrPbx, tmp_path: Path, during: str) -> None:
    """Seats 05 and 06 are free; the caller keys 6# (工号 06 without its zero), during the 工号
    prompt or already during the greeting (a regular caller need not wait for the prompt)."""
    ami = await pbx.ami()
    after_s = 0.5 if during == "greeting" else None
    try:
        async with seat_phone(pbx, "05", tmp_path / "phones") as seat5, \
                seat_phone(pbx, "06", tmp_path / "phones") as seat6, \
                citizen_phone(pbx, OPEN_CITIZEN, tmp_path / "phones") as citizen:
            await log_in(ami, pbx, "05")
            await log_in(ami, pbx, "06")
            start = await _key_in(pbx, ami, citizen, "6#", after_s)
            await ami.wait_event(user_event("HotlineNamedSeat", Seat="06", Result="dialling"),
                                 start=start)
            await seat6.wait_for("CALL_ESTABLISHED")
            await asyncio.sleep(TALK_SECONDS)
            await citizen.hangup()
            await citizen.wait_for("CALL_CLOSED")
            recording = (await citizen.finished_recordings())[-1]
            assert not [e for e in seat5.events if e.type.startswith("CALL_")]
    finally:
        await log_out(ami, pbx, "05", "06")
    assert not [e for e in ami.events[start:] if e.get("Event") == "QueueCallerJoin"]
    heard = samples(recording)
    assert find_exact(heard, samples(prompt(pbx, "operator-06")), G711) is not None
    assert find_exact(heard, samples(prompt(pbx, "operator-05")), G711) is None


@pytest.mark.parametrize(("keys", "result"), [("06", "unavailable"), ("99#", "unknown")],
                         ids=["paused-seat", "no-such-seat"])
async def test_unavailable_or_unknown_operator_falls_back_to_the_queue(
        pbx: IvrPbx, tmp_path: Path, keys: str, result: str) -> None:
    ami = await pbx.ami()
    try:
        async with seat_phone(pbx, "05", tmp_path / "phones") as seat5, \
                seat_phone(pbx, "06", tmp_path / "phones") as seat6, \
                citizen_phone(pbx, OPEN_CITIZEN, tmp_path / "phones") as citizen:
            await log_in(ami, pbx, "05")
            await log_in(ami, pbx, "06", paused=True)
            start = await _key_in(pbx, ami, citizen, keys)
            named = await ami.wait_event(user_event("HotlineNamedSeat"), start=start)
            assert (named["Seat"], named["Result"]) == (keys.rstrip("#"), result)
            connect = await ami.wait_event(lambda e: e.get("Event") == "AgentConnect",
                                           timeout=CONNECT_TIMEOUT_S, start=start)
            assert connect["MemberName"] == "05"
            await seat5.wait_for("CALL_ESTABLISHED")
            # Hanging up within milliseconds of the answer, before Dial starts the 工号
            # announcement, makes app_dial log "error streaming file": let it start.
            await asyncio.sleep(prompt_seconds(pbx, "operator-05"))
            await citizen.hangup()
            await citizen.wait_for("CALL_CLOSED")
            assert not [e for e in seat6.events if e.type.startswith("CALL_")]
    finally:
        await log_out(ami, pbx, "05", "06")

"""What integration tests use to drive and question the real PBX: citizens, phones, checks."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from hotline.config import HotlineConfig
from hotline.db import make_engine, make_session_factory
from hotline.phones import BaresipPhone
from telephony.ami import AmiClient, AmiSettings
from telephony.monitor import snapshot
from tests.hall_pbx import HallPbx
from voicemail.callbacks import service as callbacks
from voicemail.models import STATE_VALID, Voicemail

# A Wednesday morning in the hall's zone: the hall is open.
OPEN_MOMENT = "2026-11-25T10:00:00"
SETTLE_TIMEOUT_S = 8.0
POLL_S = 0.05
OUTSIDE_HOST = "127.0.0.2"  # where a test's [trunk] points: only the outside line's packets match it
TRUNK_QUALIFY_TIMEOUT_S = 5.0


def epoch_of(config: HotlineConfig, text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=config.hall.tz).timestamp())


async def harness_client(config: HotlineConfig) -> AmiClient:
    """A second AMI session of our own client: the test's view of Asterisk's own answers."""
    client = AmiClient(AmiSettings(host=config.ami.host, port=config.ami.port,
                                   username=config.ami.username, secret=config.ami.secret,
                                   action_id_prefix="harness"))
    await client.start()
    await client.wait_connected(10)
    return client


async def call_hotline(client: AmiClient, config: HotlineConfig, number: str, name: str = "市民",
                       *, at: str = OPEN_MOMENT, seconds: int = 120) -> None:
    """A citizen calls 12345: a Local channel whose far end waits on the line."""
    await client.send_action(
        "Originate", Channel="Local/12345@hotline-entry", Application="Wait", Data=str(seconds),
        CallerID=f'"{name}" <{number}>', Variable=f"HOTLINE_NOW={epoch_of(config, at)}", Async="true")


async def citizen_channels(client: AmiClient, number: str) -> list[str]:
    response = await client.send_action("CoreShowChannels")
    return [e["Channel"] for e in response.events
            if e.get("Channel", "").startswith("Local/12345@hotline-entry") and e.get("CallerIDNum") == number
            and e["Channel"].endswith(";1")]


async def wait_for(predicate: Any, timeout: float = SETTLE_TIMEOUT_S, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await predicate()
        if last:
            return last
        await asyncio.sleep(POLL_S)
    raise AssertionError(f"timed out waiting for {what}; last value: {last!r}")


@dataclass
class Api:
    base_url: str
    headers: dict[str, str]

    async def get(self, path: str) -> Any:
        async with httpx.AsyncClient(base_url=self.base_url, headers=self.headers, timeout=10) as http:
            response = await http.get(path)
            response.raise_for_status()
            return response.json()

    async def raw(self, path: str) -> bytes:
        async with httpx.AsyncClient(base_url=self.base_url, headers=self.headers, timeout=10) as http:
            response = await http.get(path)
            response.raise_for_status()
            return response.content

    async def post(self, path: str, json: Any = None) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.base_url, headers=self.headers, timeout=10) as http:
            return await http.post(path, json=json)

    async def seat(self, seat_id: str) -> dict[str, Any]:
        return await self.get(f"/api/seats/{seat_id}")

    async def wait_state(self, seat_id: str, state: str, timeout: float = SETTLE_TIMEOUT_S) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            seat = await self.seat(seat_id)
            return seat if seat["state"] == state else None

        return await wait_for(check, timeout, f"seat {seat_id} to be {state}")


def seat_phone(config: HotlineConfig, seat_id: str, work_dir: Path, **options: Any) -> BaresipPhone:
    seat = config.seat(seat_id)
    assert seat is not None
    return BaresipPhone(f"seat{seat_id}", server_host=config.sip.bind, server_port=config.sip.port,
                        username=seat.extension, password=seat.password, work_dir=work_dir, **options)


def expert_phone(config: HotlineConfig, extension: str, work_dir: Path, **options: Any) -> BaresipPhone:
    """The desk phone of the expert with this extension (a three-way call rings it)."""
    expert = next((e for e in config.experts if e.extension == extension), None)
    assert expert is not None, f"no expert with extension {extension}"
    return BaresipPhone(f"expert{extension}", server_host=config.sip.bind, server_port=config.sip.port,
                        username=extension, password=expert.password, work_dir=work_dir, **options)


def outside_line(config: HotlineConfig, number: str, work: Path, *, auto_answer: bool) -> BaresipPhone:
    """The citizen's phone behind the trunk: listens on the trunk's address and port, never registers.

    The dialled number is the phone's SIP user, so baresip takes calls to `number`."""
    trunk = config.trunk
    assert trunk is not None, "the PBX was started without [trunk]"
    return BaresipPhone("outside", server_host=trunk.host, server_port=trunk.port,
                        username=number, password="", work_dir=work / "phones",
                        listen_host=trunk.host, sip_port=trunk.port, register=False,
                        auto_answer=auto_answer)


async def trunk_reachable(pbx: HallPbx) -> None:
    """Asterisk qualifies the trunk's static contact; make it look again now that the line is up."""
    async def available() -> bool:
        await asyncio.to_thread(pbx.cli, "pjsip qualify hotline-trunk")
        await asyncio.sleep(0.1)
        contacts = await asyncio.to_thread(pbx.cli, "pjsip show contacts")
        return any("hotline-trunk" in line and "Avail" in line for line in contacts.splitlines())

    await wait_for(available, TRUNK_QUALIFY_TIMEOUT_S, "the trunk's contact to be reachable")


def enqueue_callback_row(database_url: str, number: str, tag: str) -> int:
    """A valid voicemail from `number` and its urgent callback, written through the service functions."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            voicemail = Voicemail(recording_id=f"live-{tag}-{secrets.token_hex(4)}", caller_num=number,
                                  state=STATE_VALID, archive_name=f"{tag}.wav",
                                  review_reasons=[{"code": "speech", "message": "speech found"}])
            session.add(voicemail)
            session.flush()
            row = callbacks.enqueue_callback(session, voicemail.id, priority="urgent",
                                             department="供水集团", number=number,
                                             transcript="家里停水三天了")
            session.commit()
            return row.id
    finally:
        engine.dispose()


async def asterisk_picture(client: AmiClient, config: HotlineConfig) -> dict[str, dict[str, Any]]:
    """Per seat, what Asterisk itself says: membership, pause, phone registered, channel up."""
    queue = await snapshot(client, "QueueStatus")
    channels = await snapshot(client, "CoreShowChannels")
    contacts = await snapshot(client, "PJSIPShowContacts")
    devices = await snapshot(client, "DeviceStateList")
    members = {e.get("Name"): e for e in queue
               if e.get("Event") == "QueueMember" and e.get("Queue") == config.queue.name}
    # A listed contact is reachable only while its device is not gone: after a restart the
    # registrar lists stored contacts (NonQualified) whose device stays UNAVAILABLE until qualified.
    gone = {e.get("Device", "").removeprefix("PJSIP/") for e in devices
            if e.get("State") in ("UNAVAILABLE", "INVALID")}
    registered = {e.get("Endpoint") or e.get("ObjectName", "").split(";")[0] for e in contacts
                  if e.get("Event") == "ContactList" and e.get("Status") not in ("Unavailable", "Removed")}
    registered -= gone
    picture: dict[str, dict[str, Any]] = {}
    for seat in config.seats:
        member = members.get(seat.seat_id)
        picture[seat.seat_id] = {
            "logged_in": member is not None,
            "paused": member is not None and member.get("Paused") == "1",
            "pause_reason": (member.get("PausedReason") or None) if member else None,
            "registered": seat.extension in registered,
            "has_channel": any(e.get("Channel", "").startswith(f"PJSIP/{seat.extension}-")
                               for e in channels),
        }
    return picture


def bridge_picture(seats: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["seat_id"]: {
        "logged_in": s["logged_in"],
        "paused": s["paused"],
        "pause_reason": s["pause_reason"] if s["paused"] else None,
        "registered": s["state"] != "offline",
        "has_channel": s["state"] in ("on_call", "ringing"),
    } for s in seats}


async def assert_agrees_with_asterisk(api: Api, client: AmiClient, config: HotlineConfig) -> None:
    """The bridge's picture equals Asterisk's own answer, seat by seat (allowing it to settle)."""
    async def agree() -> dict[str, Any] | bool:
        ours = bridge_picture(await api.get("/api/seats"))
        theirs = await asterisk_picture(client, config)
        diff = {seat: (ours[seat], theirs[seat]) for seat in theirs if ours.get(seat) != theirs[seat]}
        return not diff

    try:
        await wait_for(agree, what="the bridge to agree with Asterisk")
    except AssertionError:
        ours = bridge_picture(await api.get("/api/seats"))
        theirs = await asterisk_picture(client, config)
        diff = {seat: {"bridge": ours[seat], "asterisk": theirs[seat]}
                for seat in theirs if ours.get(seat) != theirs[seat]}
        raise AssertionError(f"bridge and Asterisk disagree: {diff}") from None

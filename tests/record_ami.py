"""Record the AMI transcripts the suite replays, from the project's own sandbox Asterisk.

Run by hand (`python -m tests.record_ami [NAME-PREFIX ...]`) when Asterisk or the rendered
dialplan changes; commit what it writes under tests/ami_captures/. Each scenario boots nothing
of its own: one sandbox PBX renders the shipped hotline.conf (as tests/ivr does), real baresip
phones register as seats, experts and citizens, and one fresh AMI connection per scenario
records (the real AmiClient, through tests/service_process.py's TcpProxy), byte for byte,
everything Asterisk sends after its banner (`NN-name.txt`, the format
the loaders read) and every action sent (`sent/NN-name.txt`, the Secret blanked), so a test can
find "the answer to QueueAdd" by the ActionID it had. Nothing here is imported by the tests.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from hotline.config.secrets import write_demo_secrets
from ivr.names import member_interface, state_interface
from telephony.ami import Message
from telephony.ami.testing import AmiSession, split_frames
from tests.ivr import pbx as ivr_pbx
from tests.ivr.calls import call_hotline, prompt_seconds, write_speaker
from tests.ivr.phones import CITIZEN_PJSIP, CLOSED_CITIZEN, citizen_phone, expert_phone, seat_phone
from tests.service_process import TcpProxy

REPO = Path(__file__).resolve().parents[1]
CAPTURES = REPO / "tests" / "ami_captures"
SENT = "sent"
FRAME_END = b"\r\n\r\n"
OPEN = "2026-11-26T10:00"  # a Thursday morning
CLOSED = "2026-11-26T17:31"  # the same day, just after hours
CITIZEN_CALLER_ID = '"张三" <13812345678>'
SETTLE_S = 1.5
"""Time left for the trailing events (hang-ups, device states) before a recording stops."""
CONNECT_TIMEOUT_S = 60
ROOM = "4242"


def blank_secrets(sent: bytes) -> str:
    """The actions the client sent, as the `sent/` file keeps them (the Secret blanked)."""
    return "\r\n".join(
        "\r\n".join("Secret: ********" if line.startswith("Secret: ") else line
                     for line in frame.decode("utf-8").split("\r\n")) + "\r\n"
        for frame in split_frames(sent))


Scenario = Callable[[ivr_pbx.IvrPbx, AmiSession, Path], Awaitable[None]]


async def log_in(ami: AmiSession, pbx: ivr_pbx.IvrPbx, seat_id: str) -> None:
    """The service's QueueAdd for an operator logging in."""
    seat = pbx.config.seat(seat_id)
    assert seat is not None
    await ami.action("QueueAdd", Queue=pbx.config.queue.name, Interface=member_interface(seat_id),
                     StateInterface=state_interface(seat.extension), MemberName=seat_id,
                     Paused="false")


async def log_out(ami: AmiSession, pbx: ivr_pbx.IvrPbx, seat_id: str) -> None:
    await ami.send("QueueRemove", Queue=pbx.config.queue.name, Interface=member_interface(seat_id))


async def wait(ami: AmiSession, event: str, start: int = 0, timeout: float = CONNECT_TIMEOUT_S,
               **headers: str) -> Message:
    """The first `event` with these headers from index `start` on (startswith for Channel)."""
    def match(message: Message) -> bool:
        return message.get("Event") == event and all(
            message.get(key, "").startswith(value) if key == "Channel" else message.get(key) == value
            for key, value in headers.items())
    return await ami.wait_event(match, timeout=timeout, start=start)


async def bridged_channel(ami: AmiSession, prefix: str) -> Message:
    """The CoreShowChannels entry of the channel whose name starts with `prefix`."""
    channels = [m for m in await ami.send("CoreShowChannels") if m.get("Event") == "CoreShowChannel"]
    return next(c for c in channels if c["Channel"].startswith(prefix))


# ----- scenarios ---------------------------------------------------------------------------------
async def login_status(pbx: ivr_pbx.IvrPbx, ami: AmiSession, work: Path) -> None:
    """01: what the service asks right after login, on an idle hall."""
    del pbx, work
    await ami.send("CoreShowChannels")
    await ami.send("QueueStatus")


async def voicemail_closed_hours(pbx: ivr_pbx.IvrPbx, ami: AmiSession, work: Path) -> None:
    """02: a citizen (Local channel) calls after hours and leaves a message."""
    speech = work / "speech.wav"
    write_speaker(speech, 0.5, 2.0, 0.5)
    target = f"{pbx.data_dir}/speech"
    shutil.copy(speech, pbx.host_path(f"{target}.wav"))
    start = len(ami.events)
    await call_hotline(ami, pbx.local_time(CLOSED), application="Playback",
                       data=f"silence/1&hotline/after-hours&{target}")
    await wait(ami, "Hangup", start, Context="hotline-voicemail")


async def routing_by_time(pbx: ivr_pbx.IvrPbx, ami: AmiSession, work: Path) -> None:
    """04: the time routing at open, closed and holiday moments; the open caller gives up
    while waiting in the (empty) queue."""
    del work
    for moment in ("2026-11-26T08:29", "2026-10-01T10:00", CLOSED):
        start = len(ami.events)
        await call_hotline(ami, pbx.local_time(moment), application="Wait", data="2")
        await wait(ami, "UserEvent", start, UserEvent="HotlineRoute")
    start = len(ami.events)
    wait_s = prompt_seconds(pbx, "greeting", "named-operator") + 6
    await call_hotline(ami, pbx.local_time(OPEN), application="Wait", data=str(int(wait_s)))
    await wait(ami, "QueueCallerJoin", start)
    await wait(ami, "QueueCallerAbandon", start)


async def member_add_pause_remove(pbx: ivr_pbx.IvrPbx, ami: AmiSession, work: Path) -> None:
    """05: seat 02 (registered) and 03 (no phone) log in; 02 pauses for lunch and comes back,
    takes a direct call (device INUSE, then NOT_INUSE); a QueueStatus; both log out."""
    async with seat_phone(pbx, "02", work) as phone:
        await log_in(ami, pbx, "02")
        await log_in(ami, pbx, "03")
        await ami.action("QueuePause", Queue=pbx.config.queue.name, Interface=member_interface("02"),
                         Paused="true", Reason="lunch")
        await asyncio.sleep(1)
        await ami.action("QueuePause", Queue=pbx.config.queue.name, Interface=member_interface("02"),
                         Paused="false")
        start = len(ami.events)
        await ami.originate("PJSIP/1002", Application="Wait", Data="2", CallerID=CITIZEN_CALLER_ID)
        await phone.wait_for("CALL_CLOSED")
        await wait(ami, "DeviceStateChange", start, Device="PJSIP/1002", State="NOT_INUSE")
        await ami.send("QueueStatus", Queue=pbx.config.queue.name)
        await log_out(ami, pbx, "02")
        await log_out(ami, pbx, "03")


async def _queue_call(pbx: ivr_pbx.IvrPbx, ami: AmiSession, seat_id: str, talk_s: int) -> int:
    """Seat `seat_id` logs in and a Local citizen calls in the open hours; returns once the
    queue connected them (the event index the call started at)."""
    await log_in(ami, pbx, seat_id)
    start = len(ami.events)
    await call_hotline(ami, pbx.local_time(OPEN), application="Wait", data=str(talk_s),
                       callerid=CITIZEN_CALLER_ID)
    await wait(ami, "AgentConnect", start)
    return start


async def talkers(ami: AmiSession) -> tuple[str, str]:
    """The citizen's bridged leg and the operator's channel in the same bridge."""
    channels = [m for m in await ami.send("CoreShowChannels") if m.get("Event") == "CoreShowChannel"]
    citizen = next(c for c in channels if c["Channel"].startswith("Local/12345@hotline-entry-")
                   and c.get("BridgeId"))
    operator = next(c for c in channels if c.get("BridgeId") == citizen["BridgeId"]
                    and c["Channel"] != citizen["Channel"])
    return citizen["Channel"], operator["Channel"]


async def threeway_redirect(pbx: ivr_pbx.IvrPbx, ami: AmiSession, work: Path) -> None:
    """06: the service's three-way: citizen and operator redirected into a ConfBridge room,
    the expert (a real phone) originated into it; the citizen leaves first, then the others."""
    async with seat_phone(pbx, "01", work) as seat, expert_phone(pbx, "2001", work) as expert:
        start = await _queue_call(pbx, ami, "01", 120)
        await seat.wait_for("CALL_ESTABLISHED")
        await asyncio.sleep(prompt_seconds(pbx, "operator-01") + 1.0)
        citizen, operator = await talkers(ami)
        await ami.action("Redirect", Channel=citizen, Context="hotline-threeway", Exten=ROOM,
                         Priority="1", ExtraChannel=operator,
                         ExtraContext="hotline-threeway-operator", ExtraExten=ROOM, ExtraPriority="1")
        await wait(ami, "ConfbridgeJoin", start)
        await ami.originate("Local/2001@hotline-expert/n", Context="hotline-threeway", Exten=ROOM,
                            Priority="1", CallerID='"12345热线" <12345>')
        await expert.wait_for("CALL_ESTABLISHED")
        await asyncio.sleep(prompt_seconds(pbx, "threeway-whisper") + 2.0)
        await ami.send("ConfbridgeList", Conference=ROOM)
        await ami.send("Hangup", Channel=citizen)
        await asyncio.sleep(1.0)
        await expert.hangup()
        await expert.wait_for("CALL_CLOSED")
        await seat.hangup()
        await seat.wait_for("CALL_CLOSED")
        await wait(ami, "ConfbridgeEnd", start)
        await wait(ami, "DeviceStateChange", start, Device="PJSIP/1001", State="NOT_INUSE")
        await asyncio.sleep(SETTLE_S)
        await log_out(ami, pbx, "01")


async def threeway_bridge_add(pbx: ivr_pbx.IvrPbx, ami: AmiSession, work: Path) -> None:
    """07: the expert's phone joins the queue call's own bridge (BridgeAdd); the citizen
    hangs up first, operator and expert talk on, then the operator hangs up."""
    async with seat_phone(pbx, "01", work) as seat, expert_phone(pbx, "2001", work) as expert:
        start = await _queue_call(pbx, ami, "01", 120)
        await seat.wait_for("CALL_ESTABLISHED")
        await asyncio.sleep(prompt_seconds(pbx, "operator-01") + 1.0)
        citizen, operator = await talkers(ami)
        await ami.originate("Local/s@hotline-bridge-join/n", Application="Dial",
                            Data="PJSIP/2001,20", CallerID='"12345热线" <12345>',
                            Variable=f"HOTLINE_JOIN_CHANNEL={operator}")
        await expert.wait_for("CALL_ESTABLISHED")
        await asyncio.sleep(2.0)
        await ami.send("BridgeList")
        await ami.send("Hangup", Channel=citizen)
        await asyncio.sleep(1.0)
        await seat.hangup()
        await seat.wait_for("CALL_CLOSED")
        await expert.wait_for("CALL_CLOSED")
        await wait(ami, "AgentComplete", start)
        await wait(ami, "DeviceStateChange", start, Device="PJSIP/1001", State="NOT_INUSE")
        await asyncio.sleep(SETTLE_S)
        await log_out(ami, pbx, "01")
        await ami.send("Hangup", Channel=citizen)  # gone by now: Asterisk's "No such channel"


async def seat_takes_queue_call(pbx: ivr_pbx.IvrPbx, ami: AmiSession, work: Path) -> None:
    """08: a baresip seat logs in, answers a queue call, talks, hangs up, then logs out."""
    async with seat_phone(pbx, "01", work) as seat:
        start = await _queue_call(pbx, ami, "01", 120)
        await seat.wait_for("CALL_ESTABLISHED")
        await asyncio.sleep(prompt_seconds(pbx, "operator-01") + 3.0)
        await seat.hangup()
        await seat.wait_for("CALL_CLOSED")
        await wait(ami, "AgentComplete", start)
        await wait(ami, "DeviceStateChange", start, Device="PJSIP/1001", State="NOT_INUSE")
        await asyncio.sleep(SETTLE_S)
        await log_out(ami, pbx, "01")


async def seat_holds_queue_call(pbx: ivr_pbx.IvrPbx, ami: AmiSession, work: Path) -> None:
    """11: as 08 (the call is recorded), but the operator puts the citizen on hold from the
    baresip phone for about two seconds, resumes, talks on, and hangs up."""
    async with seat_phone(pbx, "01", work) as seat:
        start = await _queue_call(pbx, ami, "01", 120)
        await seat.wait_for("CALL_ESTABLISHED")
        await asyncio.sleep(prompt_seconds(pbx, "operator-01") + 1.0)
        await seat.command("hold")
        await wait(ami, "Hold", start)
        await asyncio.sleep(2.0)
        await seat.command("resume")
        await wait(ami, "Unhold", start)
        await asyncio.sleep(1.0)
        await seat.hangup()
        await seat.wait_for("CALL_CLOSED")
        await wait(ami, "AgentComplete", start)
        await wait(ami, "UserEvent", start, UserEvent="HotlineRecording")
        await wait(ami, "DeviceStateChange", start, Device="PJSIP/1001", State="NOT_INUSE")
        await asyncio.sleep(SETTLE_S)
        await log_out(ami, pbx, "01")


async def citizen_leaves_voicemail(pbx: ivr_pbx.IvrPbx, ami: AmiSession, work: Path) -> None:
    """09: a baresip citizen calls after hours, speaks after the prompt and hangs up."""
    speech = write_speaker(work / "citizen-speech.wav", prompt_seconds(pbx, "greeting",
                                                                      "after-hours") + 1.5, 2.0, 0.5)
    async with citizen_phone(pbx, CLOSED_CITIZEN, work, audio=speech) as citizen:
        start = len(ami.events)
        await citizen.dial("12345")
        await citizen.wait_for("CALL_ESTABLISHED")
        await asyncio.sleep(prompt_seconds(pbx, "greeting", "after-hours") + 3.0)
        await citizen.hangup()
        await citizen.wait_for("CALL_CLOSED")
        await wait(ami, "Hangup", start, Context="hotline-voicemail")


async def direct_call_to_seat(pbx: ivr_pbx.IvrPbx, ami: AmiSession, work: Path) -> None:
    """10: seat 02's phone registers (not in the queue) and is called directly; it answers
    and the caller hangs up after a few seconds."""
    async with seat_phone(pbx, "02", work) as seat:
        await asyncio.sleep(0.5)
        start = len(ami.events)
        await ami.originate("PJSIP/1002", Application="Wait", Data="3",
                            CallerID='"李四" <13900002222>')
        await seat.wait_for("CALL_CLOSED")
        await wait(ami, "DeviceStateChange", start, Device="PJSIP/1002", State="NOT_INUSE")
    await asyncio.sleep(SETTLE_S)


SCENARIOS: dict[str, Scenario] = {
    "01-login-corestatus-queuestatus": login_status,
    "02-voicemail-closed-hours": voicemail_closed_hours,
    "04-gotoiftime-routing": routing_by_time,
    "05-queue-member-add-pause-remove": member_add_pause_remove,
    "06-threeway-confbridge-redirect": threeway_redirect,
    "07-threeway-bridgeadd": threeway_bridge_add,
    "08-sip-seat-baresip-queue-call": seat_takes_queue_call,
    "09-sip-citizen-baresip-voicemail": citizen_leaves_voicemail,
    "10-sip-seat-baresip-direct-call": direct_call_to_seat,
    "11-sip-seat-baresip-hold": seat_holds_queue_call,
}


async def record(pbx: ivr_pbx.IvrPbx, name: str, scenario: Scenario, work: Path, out: Path) -> None:
    """One scenario on a fresh AMI connection of the real client, through a proxy that keeps
    every byte; writes its two files."""
    settings = pbx.ami_settings()
    proxy = TcpProxy(settings.host, settings.port)
    await proxy.start()
    ami = await AmiSession.open(replace(settings, port=proxy.port, ping_interval=0, action_id_prefix="a"))
    try:
        await scenario(pbx, ami, work / name)
        await asyncio.sleep(SETTLE_S)
    finally:
        await ami.close()
        await proxy.stop()
    received = bytes(proxy.received).split(b"\n", 1)[1]  # the banner is not part of a capture
    received = received[: received.rfind(FRAME_END) + len(FRAME_END)]  # whole frames only
    sent = blank_secrets(bytes(proxy.sent))
    (out / f"{name}.txt").write_bytes(received)
    (out / SENT / f"{name}.txt").write_text(sent, encoding="utf-8", newline="")
    print(f"{name}: {received.count(b'Event: ')} events, {sent.count('Action: ')} actions", flush=True)


async def main(prefixes: list[str], out: Path = CAPTURES) -> None:
    chosen = {n: s for n, s in SCENARIOS.items() if not prefixes or n.startswith(tuple(prefixes))}
    (out / SENT).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="record-ami-") as folder:
        work = Path(folder)
        shutil.copy(REPO / "hotline.conf", work / "hotline.conf")
        shutil.copy(REPO / "remit.conf", work / "remit.conf")  # hotline.conf [remit] names it
        write_demo_secrets(work / "hotline.conf")
        pbx = ivr_pbx.start("recami", work / "hotline.conf", work / "render", pjsip_local=CITIZEN_PJSIP)
        try:
            for name, scenario in chosen.items():
                pbx.cli("channel request hangup all")
                await record(pbx, name, scenario, work, out)
        finally:
            ivr_pbx.stop(pbx)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.record_ami", description=__doc__.split("\n")[0])
    parser.add_argument("prefixes", nargs="*", help="record only these scenarios (e.g. 05 08)")
    parser.add_argument("--out", type=Path, default=CAPTURES, help="folder to write (default: %(default)s)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args(sys.argv[1:])
    asyncio.run(main(arguments.prefixes, arguments.out))

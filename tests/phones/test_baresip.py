"""Real baresip phones against a real Asterisk: registration, calls, audio both ways, DTMF, failures."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hotline.phones import BaresipPhone, PhoneError, RegistrationError, audio, baresip
from hotline.phones.baresip import free_port, free_rtp_range
from tests.phones.pbx import PBX_TONE_HZ, TONE_EXTEN, PhoneFactory, PhonesPbx

pytestmark = pytest.mark.pbx

TONE_A_HZ = 440
TONE_B_HZ = 1000
ALL_TONES = (TONE_A_HZ, TONE_B_HZ, PBX_TONE_HZ)
TONE_SECONDS = 6.0  # longer than any call here; the phone pads it with silence anyway
TALK_SECONDS = 3.0
HEARD_SHARE = 0.8  # a party hearing one pure tone gets ~1.0 of its energy at that frequency
ABSENT_SHARE = 0.01
SETUP_WAIT_S = 10.0  # dial -> both established (about 0.05 s); only a bound on waiting
CONTACT_GONE_S = 3.0


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll a synchronous check (e.g. an Asterisk CLI query) until it holds."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not true within {timeout}s")
        await asyncio.sleep(0.1)


@pytest.fixture
def tones(tmp_path: Path) -> dict[int, Path]:
    return {hz: audio.tone(tmp_path / f"tone-{hz}.wav", hz, TONE_SECONDS) for hz in (TONE_A_HZ, TONE_B_HZ)}


async def test_two_phones_register(make_phone: PhoneFactory, phones_pbx: PhonesPbx) -> None:
    a = make_phone("reg-a", "7001")
    b = make_phone("reg-b", "7002")
    await a.start()
    await b.start()
    assert await a.registration_state() == "OK"
    assert await b.registration_state() == "OK"
    for extension, phone in (("7001", a), ("7002", b)):
        contact = phones_pbx.contact_uri(extension)
        assert contact is not None, phones_pbx.contacts()
        assert contact.startswith(f"sip:{extension}"), contact
        assert contact.endswith(f"@127.0.0.1:{phone.ports.sip}"), contact
    rtp = range(a.ports.rtp[0], a.ports.rtp[1] + 1)
    assert set(rtp) <= baresip._handed_out
    await a.stop()
    assert baresip._handed_out.isdisjoint(rtp)  # a stopped phone's ports serve the next one
    assert a.ports.sip not in baresip._handed_out


def test_an_rtp_block_is_found_while_one_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    """Late in a long run the band is fragmented; the one free block must still be found."""
    low, high = baresip.RTP_BAND
    left = (low + high) // 2 & ~1
    taken = set(range(low, high)) - set(range(left, left + 200))
    monkeypatch.setattr(baresip, "_handed_out", taken)
    monkeypatch.setattr(baresip, "_bindable", lambda port, kind: True)  # other processes' sockets aside
    assert free_rtp_range(200) == (left, left + 199)
    with pytest.raises(PhoneError, match="no free RTP range"):
        free_rtp_range(200)


async def test_call_carries_each_partys_tone(
    make_phone: PhoneFactory, tones: dict[int, Path]
) -> None:
    a = make_phone("call-a", "7001", audio_source=tones[TONE_A_HZ])
    b = make_phone("call-b", "7002", audio_source=tones[TONE_B_HZ], auto_answer=True)
    await a.start()
    await b.start()

    await a.dial("7002")
    established_a = await a.wait_for("CALL_ESTABLISHED", timeout=SETUP_WAIT_S)
    established_b = await b.wait_for("CALL_ESTABLISHED", timeout=SETUP_WAIT_S)
    assert established_a.direction == "outgoing"
    assert established_b.direction == "incoming"
    assert established_b.peer_uri is not None and "7001" in established_b.peer_uri

    await asyncio.sleep(TALK_SECONDS)
    await a.hangup()
    await a.wait_for("CALL_CLOSED")
    await b.wait_for("CALL_CLOSED")

    heard_by_a = audio.analyse((await a.finished_recordings())[-1], ALL_TONES)
    heard_by_b = audio.analyse((await b.finished_recordings())[-1], ALL_TONES)
    for report in (heard_by_a, heard_by_b):
        assert TALK_SECONDS - 1.0 < report.duration_s < TALK_SECONDS + 1.5, report
        assert report.active_s > TALK_SECONDS - 1.0, report
    assert heard_by_b.heard(TONE_A_HZ, HEARD_SHARE), heard_by_b
    assert heard_by_a.heard(TONE_B_HZ, HEARD_SHARE), heard_by_a
    # Asterisk does not send a party's own audio back to it.
    assert heard_by_a.tone_share[TONE_A_HZ] < ABSENT_SHARE, heard_by_a
    assert heard_by_b.tone_share[TONE_B_HZ] < ABSENT_SHARE, heard_by_b
    assert heard_by_a.tone_share[PBX_TONE_HZ] < ABSENT_SHARE, heard_by_a


async def test_manual_answer_and_dtmf(make_phone: PhoneFactory) -> None:
    a = make_phone("dtmf-a", "7001")
    b = make_phone("dtmf-b", "7002", record=False)
    await a.start()
    await b.start()

    await a.dial("7002")
    incoming = await b.wait_for("CALL_INCOMING")
    assert incoming.peer_uri is not None and "7001" in incoming.peer_uri
    with pytest.raises(PhoneError, match="no CALL_ESTABLISHED"):
        await a.wait_for("CALL_ESTABLISHED", timeout=0.5)  # still ringing: nobody answered yet
    await b.answer()
    await a.wait_for("CALL_ESTABLISHED")
    await b.wait_for("CALL_ESTABLISHED")

    await a.send_dtmf("12#")
    digits = [(await b.wait_for("CALL_DTMF_START")).param for _ in range(3)]
    assert digits == ["1", "2", "#"]

    await b.hangup()
    await a.wait_for("CALL_CLOSED")
    await b.wait_for("CALL_CLOSED")
    assert b.recording_paths() == []


async def test_phone_hears_dialplan_tone(make_phone: PhoneFactory, tones: dict[int, Path]) -> None:
    a = make_phone("tone-a", "7001", audio_source=tones[TONE_A_HZ])
    await a.start()
    await a.dial(TONE_EXTEN)
    await a.wait_for("CALL_ESTABLISHED")
    await asyncio.sleep(2.0)
    await a.hangup()
    await a.wait_for("CALL_CLOSED")

    report = audio.analyse((await a.finished_recordings())[-1], ALL_TONES)
    assert report.heard(PBX_TONE_HZ, HEARD_SHARE), report
    assert report.tone_share[TONE_A_HZ] < ABSENT_SHARE, report


async def test_wrong_password_fails_with_clear_error(make_phone: PhoneFactory, phones_pbx: PhonesPbx) -> None:
    phone = make_phone("badpw", "7003", password="not-the-password")
    with pytest.raises(RegistrationError) as caught:
        await phone.start()
    message = str(caught.value)
    assert "sip:7003@127.0.0.1" in message
    assert "401 Unauthorized" in message  # from the baresip log tail
    assert not phone.running
    assert not phones_pbx.has_contact("7003")


async def test_unregister_removes_the_contact(make_phone: PhoneFactory, phones_pbx: PhonesPbx) -> None:
    phone = make_phone("unreg", "7003")
    await phone.start()
    assert phones_pbx.has_contact("7003")

    await phone.unregister()
    await wait_until(lambda: not phones_pbx.has_contact("7003"), CONTACT_GONE_S, "7003 contact removed")
    assert phone.running  # the process stays up, just unreachable


async def test_stop_unregisters_and_exits(make_phone: PhoneFactory, phones_pbx: PhonesPbx) -> None:
    phone = make_phone("stop", "7003")
    await phone.start()
    assert phones_pbx.has_contact("7003")

    assert await phone.stop() == 0
    assert not phone.running
    await wait_until(lambda: not phones_pbx.has_contact("7003"), CONTACT_GONE_S, "7003 contact removed")


async def test_busy_sip_port_fails_with_log_tail(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        taken = squatter.getsockname()[1]
        phone = BaresipPhone(
            "busy", server_host="127.0.0.1", server_port=9, username="7001", password="x",
            work_dir=tmp_path, sip_port=taken,
        )
        with pytest.raises(PhoneError, match="Address already in use") as caught:
            await phone.start()
    assert "exited" in str(caught.value)
    assert not phone.running


async def test_unreachable_server_times_out_with_hint(tmp_path: Path) -> None:
    phone = BaresipPhone(
        "nowhere", server_host="127.0.0.1", server_port=free_port(), username="7001",
        password="x", work_dir=tmp_path,
    )
    with pytest.raises(RegistrationError, match=r"not registered within 1\.0s"):
        await phone.start(register_timeout=1.0)
    assert not phone.running  # the failed phone was stopped, not left behind


async def test_listening_phone_on_its_own_address_takes_calls_for_its_user(tmp_path: Path) -> None:
    """register=False + listen_host: an outside-line stand-in, reached straight at 127.0.0.2."""
    port = free_port(span=2)
    line = BaresipPhone(
        "line", server_host="127.0.0.2", server_port=port, username="13800138000", password="",
        work_dir=tmp_path, listen_host="127.0.0.2", sip_port=port, register=False, auto_answer=True,
    )
    caller = BaresipPhone(
        "caller", server_host="127.0.0.1", server_port=free_port(), username="9001", password="",
        work_dir=tmp_path, register=False,
    )
    assert "regint=0" in line.account_text() and "auth_pass" not in line.account_text()
    assert f"sip_listen 127.0.0.2:{port}" in line.config_text()
    async with line, caller:
        await caller.dial(f"sip:13800138000@127.0.0.2:{port}")
        answered = await line.wait_for("CALL_ESTABLISHED")
        await caller.wait_for("CALL_ESTABLISHED")
        assert answered.direction == "incoming"
        assert answered.peer_uri is not None and answered.peer_uri.startswith("sip:9001@127.0.0.1")
        await caller.hangup()
        await line.wait_for("CALL_CLOSED")


def test_registering_phone_still_needs_a_password_and_loopback(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="password"):
        BaresipPhone("p", server_host="127.0.0.1", server_port=5060, username="7001", password="",
                     work_dir=tmp_path)
    with pytest.raises(ValueError, match="loopback"):
        BaresipPhone("p", server_host="127.0.0.1", server_port=5060, username="7001", password="x",
                     work_dir=tmp_path, listen_host="10.0.0.1")


# A process that starts a listening phone, prints its pid and waits to be killed.
PHONE_OWNER = """
import asyncio, sys
from pathlib import Path
from hotline.phones import BaresipPhone
from hotline.phones import baresip
from hotline.phones.baresip import free_port, free_rtp_range

async def main():
    phone = BaresipPhone("orphan", server_host="127.0.0.1", server_port=free_port(), username="9009",
                         password="", work_dir=Path(sys.argv[1]), register=False)
    await phone.start()
    print(phone.pid, flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_a_phone_dies_with_the_process_that_started_it_even_on_sigkill(tmp_path: Path) -> None:
    owner = subprocess.Popen([sys.executable, "-c", PHONE_OWNER, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True)
    phone_pid = None
    try:
        line = owner.stdout.readline() if owner.stdout else ""
        assert line.strip().isdigit(), f"the owner did not start its phone: {line!r}"
        phone_pid = int(line)
        assert pid_alive(phone_pid)
        owner.kill()  # SIGKILL: no cleanup runs in the owner
        owner.wait(timeout=5)
        deadline = time.monotonic() + 5
        while pid_alive(phone_pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pid_alive(phone_pid), f"baresip {phone_pid} outlived its killed owner"
    finally:
        owner.kill()
        owner.wait(timeout=5)
        if phone_pid is not None and pid_alive(phone_pid):
            os.kill(phone_pid, signal.SIGKILL)


def pid_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie counts as gone: it has stopped and only awaits its reaper)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"

"""质检 recording on the sandbox PBX with real phones: a seat answers a queue call, Asterisk records
two tracks, each holding its own party's audio; the service's ingestion registers the recording
once, privately, and stores its measures.

The citizen's baresip phone sends a steady 700 Hz tone, the seat's phone 1300 Hz: what each track
holds is measured with Goertzel (hotline.phones.audio), so "the operator track holds the
operator" means the seat's tone dominates it and the citizen's is nearly absent.
"""

from __future__ import annotations

import asyncio
import re
import stat
from pathlib import Path

import pytest

from hotline.db import make_engine, make_session_factory, upgrade_database
from hotline.phones import BaresipPhone
from hotline.phones.audio import read_samples, tone
from quality.ingest import ingest_recordings, measure_pending
from quality.measures import Limits
from quality.models import CallRecording
from quality.spool import SpoolEntry, scan_recordings
from tests.ivr.pbx import LOOPBACK, IvrPbx
from tests.ivr.phones import OPEN_CITIZEN, citizen_phone
from tests.ivr.test_pbx_seats import CONNECT_TIMEOUT_S, log_in, log_out

pytestmark = pytest.mark.pbx

CITIZEN_HZ, OPERATOR_HZ = 700.0, 1300.0
TALK_SECONDS = 6.0
CLOSE_TIMEOUT_S = 20


def _share(samples, hz: float) -> float:
    """Share of the track's energy at one frequency (1.0 for a pure tone filling it)."""
    import math

    n = len(samples)
    if n == 0:
        return 0.0
    energy = sum(s * s for s in samples)
    if energy == 0:
        return 0.0
    re = sum(s * math.cos(2 * math.pi * hz * i / 8000) for i, s in enumerate(samples))
    im = sum(s * math.sin(2 * math.pi * hz * i / 8000) for i, s in enumerate(samples))
    return (re * re + im * im) * 2 / (n * energy)


def _seat_with_tone(pbx: IvrPbx, seat_id: str, work: Path, source: Path) -> BaresipPhone:
    seat = pbx.config.seat(seat_id)
    assert seat is not None
    return BaresipPhone(f"seat{seat_id}", server_host=LOOPBACK, server_port=pbx.config.sip.port,
                        username=seat.extension, password=seat.password, work_dir=work,
                        auto_answer=True, audio_source=source, source_seconds=30.0)


async def _wait_closed(pbx: IvrPbx, recording_id: str) -> SpoolEntry:
    """This call's files once MixMonitor has closed them (other tests' calls are recorded too)."""
    for _ in range(CLOSE_TIMEOUT_S * 4):
        entries = scan_recordings(pbx.recording_spool)
        entry = next((e for e in entries if e.recording_id == recording_id), None)
        if entry is not None and entry.closed is not None:
            return entry
        await asyncio.sleep(0.25)
    raise AssertionError(f"no closed recording in {pbx.recording_spool}: "
                         f"{sorted(p.name for p in pbx.recording_spool.iterdir())}")


async def test_answered_call_is_recorded_in_two_tracks_measured_and_registered_once(
        pbx: IvrPbx, tmp_path: Path) -> None:
    sources = {hz: tone(tmp_path / f"{int(hz)}.wav", hz, 30.0) for hz in (CITIZEN_HZ, OPERATOR_HZ)}
    ami = await pbx.ami()
    phones = tmp_path / "phones"
    try:
        async with _seat_with_tone(pbx, "05", phones, sources[OPERATOR_HZ]) as seat, \
                citizen_phone(pbx, OPEN_CITIZEN, phones, sources[CITIZEN_HZ]) as citizen:
            await log_in(ami, pbx, "05")
            start = len(ami.events)
            await citizen.dial("12345")
            await ami.wait_event(lambda e: e.get("Event") == "AgentConnect",
                                 timeout=CONNECT_TIMEOUT_S, start=start)
            await seat.wait_for("CALL_ESTABLISHED")
            # the caller hears the 工号 announcement first; the two talk once the seat is bridged
            await ami.wait_event(lambda e: e.get("Event") == "BridgeEnter"
                                 and e.get("Channel", "").startswith("PJSIP/1005-"),
                                 timeout=CONNECT_TIMEOUT_S, start=start)
            await asyncio.sleep(TALK_SECONDS)
            await citizen.hangup()
            await seat.wait_for("CALL_CLOSED")
            done = await ami.wait_event(lambda e: e.get("Event") == "UserEvent"
                                        and e.get("UserEvent") == "HotlineRecording",
                                        timeout=CLOSE_TIMEOUT_S, start=start)
    finally:
        await log_out(ami, pbx, "05")
    entry = await _wait_closed(pbx, done["RecordingId"])
    assert entry.recording_id.endswith("-05")
    # the start to the microsecond, in Asterisk's clock: AMI Hold/Unhold times are placed by it
    assert entry.meta is not None
    assert re.search(r"^started=\d{10}\.\d{6}$", entry.meta.read_text(encoding="utf-8"), re.M)
    (_, operator), (_, citizen_track) = read_samples(entry.operator), read_samples(entry.citizen)
    assert len(operator) / 8000 >= TALK_SECONDS - 1
    middle = slice(len(operator) // 3, 2 * len(operator) // 3)
    assert _share(operator[middle], OPERATOR_HZ) > 0.5 > 0.05 > _share(operator[middle], CITIZEN_HZ)
    assert _share(citizen_track[middle], CITIZEN_HZ) > 0.5 > 0.05 > _share(citizen_track[middle], OPERATOR_HZ)

    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    archive = tmp_path / "recordings"
    spool = pbx.recording_spool
    try:
        report = ingest_recordings(spool, archive, sessions, clock=lambda: 0.0)
        assert entry.recording_id in report.registered
        assert not [p for p in spool.iterdir() if p.name.startswith(entry.recording_id)], "spool released"
        again = ingest_recordings(spool, archive, sessions, clock=lambda: 0.0)
        assert entry.recording_id not in again.registered + again.released
        while measure_pending(archive, sessions, Limits()):
            pass
        with sessions() as session:
            row = session.query(CallRecording).filter_by(recording_id=entry.recording_id).one()
        assert (row.seat_id, row.problems) == ("05", [])
        assert row.linkedid == done["Linkedid"]
        assert row.measures["operator_speech_s"] >= 0 and "talk_over_s" in row.measures
        assert row.measures["duration_s"] >= TALK_SECONDS - 1
        for name in (row.operator_file, row.citizen_file):
            path = archive / name
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    finally:
        engine.dispose()


EXPERT_HZ = 1900.0


async def test_a_three_way_call_stays_recorded_with_the_expert_on_the_citizen_track(
        pbx: IvrPbx, tmp_path: Path) -> None:
    """The service's three-way move (one Redirect of citizen and seat into a conference room, the
    expert originated into it): the seat channel's recording follows it into the room."""
    sources = {hz: tone(tmp_path / f"{int(hz)}.wav", hz, 60.0)
               for hz in (CITIZEN_HZ, OPERATOR_HZ, EXPERT_HZ)}
    ami = await pbx.ami()
    phones = tmp_path / "phones"
    expert_extension = next(e.extension for e in pbx.config.experts if e.extension)
    expert = next(e for e in pbx.config.experts if e.extension == expert_extension)
    try:
        async with _seat_with_tone(pbx, "06", phones, sources[OPERATOR_HZ]) as seat, \
                citizen_phone(pbx, OPEN_CITIZEN, phones, sources[CITIZEN_HZ]) as citizen, \
                BaresipPhone(f"expert{expert_extension}", server_host=LOOPBACK,
                             server_port=pbx.config.sip.port, username=expert_extension,
                             password=expert.password, work_dir=phones, auto_answer=True,
                             audio_source=sources[EXPERT_HZ], source_seconds=60.0):
            await log_in(ami, pbx, "06")
            start = len(ami.events)
            await citizen.dial("12345")
            entered = await ami.wait_event(lambda e: e.get("Event") == "BridgeEnter"
                                           and e.get("Channel", "").startswith("PJSIP/1006-"),
                                           timeout=CONNECT_TIMEOUT_S, start=start)
            await asyncio.sleep(TALK_SECONDS / 2)
            channels = [m["Channel"] for m in await ami.send("CoreShowChannels")
                        if m.get("Event") == "CoreShowChannel"]
            citizen_channel = next(c for c in channels if c.startswith("PJSIP/citizen1-"))
            await ami.originate(f"Local/{expert_extension}@hotline-expert/n",
                                Context="hotline-threeway", Exten="5151", Priority="1")
            await ami.action("Redirect", Channel=citizen_channel, Context="hotline-threeway",
                             Exten="5151", Priority="1", ExtraChannel=entered["Channel"],
                             ExtraContext="hotline-threeway-operator", ExtraExten="5151",
                             ExtraPriority="1")
            await ami.wait_event(lambda e: e.get("Event") == "ConfbridgeJoin"
                                 and e.get("Channel") == entered["Channel"], start=start)
            await asyncio.sleep(TALK_SECONDS)
            await seat.hangup()
            await seat.wait_for("CALL_CLOSED")
            done = await ami.wait_event(lambda e: e.get("Event") == "UserEvent"
                                        and e.get("UserEvent") == "HotlineRecording",
                                        timeout=CLOSE_TIMEOUT_S, start=start)
            await ami.action("ConfbridgeKick", Conference="5151", Channel="all")
    finally:
        await log_out(ami, pbx, "06")
    entry = await _wait_closed(pbx, done["RecordingId"])
    (_, operator), (_, heard) = read_samples(entry.operator), read_samples(entry.citizen)
    last = slice(len(heard) - 3 * 8000, len(heard) - 8000)  # inside the conference room
    assert _share(operator[last], OPERATOR_HZ) > 0.5
    assert _share(heard[last], CITIZEN_HZ) > 0.1 and _share(heard[last], EXPERT_HZ) > 0.1
    assert _share(heard[last], OPERATOR_HZ) < 0.05

"""Voicemail in the real PBX: the recording, its metadata and the event, for every way in."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from hotline.phones.audio import analyse
from telephony.ami import Message
from telephony.ami.testing import AmiSession, user_event
from tests.ivr.calls import (
    TONE_HZ,
    call_hotline,
    caller_name,
    prompt_seconds,
    read_meta,
    write_speaker,
)
from tests.ivr.pbx import IvrPbx
from tests.ivr.phones import (
    CITIZEN_NAME,
    CITIZENS,
    CLOSED_CITIZEN,
    OPEN_CITIZEN,
    PRIVATE_CITIZEN,
    citizen_phone,
)

pytestmark = pytest.mark.pbx

CLOSED = "2026-11-26T17:31"  # a Thursday, one minute after closing
TONE_SECONDS = 2.0
MARGIN_SECONDS = 1.0
MIN_TONE_SHARE = 0.8
META_KEYS = ["uniqueid", "linkedid", "route", "caller_num", "caller_withheld",
             "caller_name_b64", "call_epoch", "pbx_now_forced", "record_epoch", "file",
             "max_seconds", "record_status", "record_bytes", "record_seconds", "ended"]
VOICEMAIL_TIMEOUT_S = 60


async def _voicemail_event(ami: AmiSession, start: int) -> Message:
    return await ami.wait_event(user_event("HotlineVoicemail"), timeout=VOICEMAIL_TIMEOUT_S,
                                start=start)


def _finished(pbx: IvrPbx, event: Message) -> tuple[dict[str, str], Path]:
    meta = read_meta(pbx.spool / event["Meta"])
    wav = pbx.spool / event["File"]
    assert list(meta) == META_KEYS
    assert meta["file"] == event["File"] and wav.exists()
    assert meta["uniqueid"] == event["Uniqueid"] and meta["linkedid"] == event["Linkedid"]
    assert event["VoicemailId"] == event["Uniqueid"].replace(".", "-")
    assert int(meta["record_bytes"]) == wav.stat().st_size == int(event["Bytes"])
    assert int(meta["record_seconds"]) == (wav.stat().st_size - 44) // 16000
    assert int(meta["ended"]) >= int(meta["record_epoch"])
    assert meta["max_seconds"] == str(pbx.config.voicemail.max_seconds)
    return meta, wav


async def test_after_hours_message_is_kept_when_the_caller_hangs_up(pbx: IvrPbx) -> None:
    lead = prompt_seconds(pbx, "greeting", "after-hours", "beep") + MARGIN_SECONDS
    speaker = write_speaker(pbx.host_path(f"{pbx.data_dir}/speaker.wav"), lead, TONE_SECONDS,
                            0.5)
    ami = await pbx.ami()
    start = len(ami.events)
    epoch = pbx.local_time(CLOSED)
    await call_hotline(ami, epoch, application="Playback",
                       data=f"{pbx.data_dir}/{speaker.stem}")
    route = await ami.wait_event(user_event("HotlineRoute"), start=start)
    assert (route["Route"], route["Reason"]) == ("closed", "weekly")
    event = await _voicemail_event(ami, start)
    assert (event["Route"], event["RecordStatus"]) == ("after_hours", "HANGUP")
    meta, wav = _finished(pbx, event)
    assert meta["route"] == "after_hours" and meta["record_status"] == "HANGUP"
    assert (meta["caller_num"], meta["caller_withheld"]) == ("13812345678", "0")
    assert caller_name(meta) == "张三"
    assert (meta["call_epoch"], meta["pbx_now_forced"]) == (str(epoch), "1")
    heard = analyse(wav, [TONE_HZ])
    assert heard.heard(TONE_HZ, MIN_TONE_SHARE), heard
    assert TONE_SECONDS - 0.3 <= heard.active_s <= TONE_SECONDS + 0.5


async def test_missing_numbers_are_withheld(pbx: IvrPbx) -> None:
    """An empty number and 'anonymous' (two calls at once) give no number, withheld=1."""
    ami = await pbx.ami()
    start = len(ami.events)
    lead = prompt_seconds(pbx, "greeting", "after-hours", "beep") + MARGIN_SECONDS
    for callerid in ('"" <anonymous>', '"" <>'):
        await call_hotline(ami, pbx.local_time(CLOSED), data=str(round(lead + 1)),
                           callerid=callerid)
    first = await _voicemail_event(ami, start)
    second = await _voicemail_event(ami, ami.events.index(first) + 1)
    for event in (first, second):
        meta, _ = _finished(pbx, event)
        assert (meta["caller_num"], meta["caller_withheld"]) == ("", "1")
        assert meta["caller_name_b64"] == ""


async def test_a_number_the_caller_withholds_is_not_written(pbx: IvrPbx, tmp_path: Path) -> None:
    """PJSIP marks number and name prohibited (callerid_privacy, like a trunk's Privacy: id):
    neither is written."""
    ami = await pbx.ami()
    start = len(ami.events)
    lead = prompt_seconds(pbx, "greeting", "after-hours", "beep") + MARGIN_SECONDS
    async with citizen_phone(pbx, PRIVATE_CITIZEN, tmp_path / "phones") as phone:
        await phone.dial("12345")
        await phone.wait_for("CALL_ESTABLISHED")
        await asyncio.sleep(lead + 1)
        await phone.hangup()
        event = await _voicemail_event(ami, start)
    meta, _ = _finished(pbx, event)
    assert (meta["caller_num"], meta["caller_withheld"]) == ("", "1")
    assert meta["caller_name_b64"] == ""


async def test_a_missing_spool_loses_nothing_and_says_why(variant: IvrPbx) -> None:
    """FILE() cannot create the spool; Record does: the metadata then follows the recording."""
    shutil.rmtree(variant.spool)
    try:
        ami = await variant.ami()
        start = len(ami.events)
        lead = prompt_seconds(variant, "greeting", "after-hours", "beep") + MARGIN_SECONDS
        await call_hotline(ami, variant.local_time("2026-10-01T12:00"), data=str(round(lead + 1)))
        event = await _voicemail_event(ami, start)
        meta, _ = _finished(variant, event)
        assert meta["route"] == "after_hours" and meta["caller_num"] == "13812345678"
        problems = variant.new_problems()
        assert len(problems) == 1 and "voicemail spool" in problems[0], problems
    finally:
        variant.spool.mkdir(parents=True, exist_ok=True)


async def test_hash_ends_the_message_of_a_sip_caller(pbx: IvrPbx, tmp_path: Path) -> None:
    lead = prompt_seconds(pbx, "greeting", "after-hours", "beep") + MARGIN_SECONDS
    speaker = write_speaker(tmp_path / "speaker.wav", lead, TONE_SECONDS, 0.0)
    ami = await pbx.ami()
    start = len(ami.events)
    async with citizen_phone(pbx, CLOSED_CITIZEN, tmp_path / "phones", speaker) as phone:
        await phone.dial("12345")
        await phone.wait_for("CALL_ESTABLISHED")
        route = await ami.wait_event(user_event("HotlineRoute"), start=start)
        assert route["Route"] == "closed" and route["CallerIDNum"] == CITIZENS[CLOSED_CITIZEN][0]
        await asyncio.sleep(lead + TONE_SECONDS + 0.3)
        await phone.send_dtmf("#")
        event = await _voicemail_event(ami, start)
        await phone.wait_for("CALL_CLOSED")
    assert event["RecordStatus"] == "DTMF"
    meta, wav = _finished(pbx, event)
    assert meta["caller_num"] == CITIZENS[CLOSED_CITIZEN][0] and meta["caller_withheld"] == "0"
    assert caller_name(meta) == CITIZEN_NAME
    assert meta["call_epoch"] == str(CITIZENS[CLOSED_CITIZEN][1])
    heard = analyse(wav, [TONE_HZ])
    assert heard.heard(TONE_HZ, MIN_TONE_SHARE), heard


async def test_overflow_offers_voicemail_and_more_waiting(variant: IvrPbx, tmp_path: Path) -> None:
    """Nobody logged in, 2 s overflow: 2 = wait again, then 1 = leave a message."""
    ami = await variant.ami()
    start = len(ami.events)
    async with citizen_phone(variant, OPEN_CITIZEN, tmp_path / "phones") as phone:
        await phone.dial("12345")
        await phone.wait_for("CALL_ESTABLISHED")
        route = await ami.wait_event(user_event("HotlineRoute"), start=start)
        assert route["Route"] == "open"
        first = await ami.wait_event(user_event("HotlineQueueExit"), timeout=40, start=start)
        assert first["Status"] == "TIMEOUT"
        await asyncio.sleep(1.0)
        await phone.send_dtmf("2")
        second = await ami.wait_event(user_event("HotlineQueueExit"), timeout=40,
                                      start=ami.events.index(first) + 1)
        assert second["Status"] == "TIMEOUT"
        await asyncio.sleep(1.0)
        await phone.send_dtmf("1")
        await asyncio.sleep(prompt_seconds(variant, "beep") + 2.0)
        await phone.hangup()
        event = await _voicemail_event(ami, start)
    joins = [e for e in ami.events[start:] if e.get("Event") == "QueueCallerJoin"]
    assert [j["Position"] for j in joins] == ["1", "1"]
    assert event["Route"] == "overflow"
    meta, _ = _finished(variant, event)
    assert meta["route"] == "overflow" and meta["record_status"] == "HANGUP"
    assert meta["call_epoch"] == str(CITIZENS[OPEN_CITIZEN][1])

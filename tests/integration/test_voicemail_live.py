"""After-hours voicemail end to end: a real citizen phone, Asterisk's recording, the service's
loss-free ingestion, and the register served by the API."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.auth import Role
from hotline.db import make_engine, make_session_factory
from hotline.phones import audio
from tests.hall_pbx import REPO, HallPbx, instance_name, start_hall_pbx
from tests.integration.citizens import CITIZENS, Citizen, citizen_phone, citizens_pjsip
from tests.integration.harness import Api, wait_for
from tests.service_process import ServiceProcess
from voicemail.models import Voicemail

pytestmark = pytest.mark.pbx
HALL_TZ = ZoneInfo("Asia/Shanghai")  # hotline.conf's [hall] timezone
TONE_HZ = 1000.0
SPOKEN_S = 10.0
DURATION_TOLERANCE_S = 0.3
CALL_TIMEOUT_S = 60.0
# The citizen starts talking this long after the beep, so all they say lands in the recording.
LEAD_MARGIN_S = 1.0
# Silence before the speech plus the moment between the caller's hang-up and Record stopping.
MAX_UNSPOKEN_S = 2.0


@pytest.fixture(scope="module")
def vm_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallPbx]:
    assert "timezone = Asia/Shanghai" in (REPO / "hotline.conf").read_text(encoding="utf-8")
    running = start_hall_pbx(instance_name("vm"), tmp_path_factory.mktemp("vm"),
                             pjsip_local=citizens_pjsip(HALL_TZ))
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Env:
    pbx: HallPbx
    service: ServiceProcess
    api: Api
    work: Path

    @property
    def spool(self) -> Path:
        return self.pbx.config.voicemail.spool

    def rows(self) -> list[Voicemail]:
        engine = make_engine(self.pbx.config.database.url)
        try:
            with make_session_factory(engine)() as session:
                return list(session.scalars(select(Voicemail).order_by(Voicemail.id)))
        finally:
            engine.dispose()


@pytest.fixture
async def env(vm_pbx: HallPbx, tmp_path: Path) -> AsyncIterator[Env]:
    vm_pbx.reset()
    for leftover in vm_pbx.config.voicemail.spool.iterdir():
        leftover.unlink()
    db = Path(vm_pbx.config.database.url.removeprefix("sqlite:///"))
    for path in db.parent.glob(db.name + "*"):
        path.unlink()
    shutil.rmtree(vm_pbx.config.voicemail.archive, ignore_errors=True)
    service = ServiceProcess(vm_pbx.config, tmp_path / "serve.log")
    service.make_tokens()
    try:
        yield Env(vm_pbx, service, Api(service.base_url, service.headers(Role.OPERATOR)), tmp_path)
    finally:
        service.stop()


def prompt_seconds(pbx: HallPbx) -> float:
    """What a closed-hours caller hears before the recording starts."""
    sounds = pbx.rendered / "sounds" / "hotline"
    return sum(audio.duration(sounds / f"{name}.wav") for name in ("greeting", "after-hours", "beep"))


async def leave_message(env: Env, citizen: Citizen, spoken_s: float, tag: str) -> None:
    """The citizen listens to the prompts, speaks `spoken_s` seconds, then hangs up (baresip
    ends the call when its audio source ends, so the talk time is exact)."""
    lead = prompt_seconds(env.pbx) + LEAD_MARGIN_S
    source = env.work / f"{tag}.wav"
    total = lead + spoken_s
    audio.silence(env.work / f"{tag}-lead.wav", lead)
    audio.tone(env.work / f"{tag}-tone.wav", TONE_HZ, max(spoken_s, 0.02))
    audio.run_tool(["sox", str(env.work / f"{tag}-lead.wav"), str(env.work / f"{tag}-tone.wav"),
                    str(source), "trim", "0", f"{total:.3f}"])
    phone = citizen_phone(env.pbx.config, citizen, env.work / "phones", source, seconds=total)
    async with phone:
        await phone.dial("12345")
        await phone.wait_for("CALL_ESTABLISHED", timeout=10)
        await phone.wait_for("CALL_CLOSED", timeout=total + CALL_TIMEOUT_S)


async def registered(env: Env, count: int) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]] | None:
        page = await env.api.get("/api/voicemails?limit=100")
        return page["items"] if page["total"] >= count else None

    return await wait_for(check, 30, f"{count} voicemail(s) in the register")


async def test_ten_second_message_registered_once(env: Env) -> None:
    await env.service.start()
    citizen = CITIZENS[0]
    await leave_message(env, citizen, SPOKEN_S, "ten")
    items = await registered(env, 1)
    assert len(items) == 1
    item = items[0]
    assert item["caller_num"] == citizen.number and item["caller_name"] == citizen.name
    assert item["route"] == "after_hours" and item["state"] == "new" and not item["caller_withheld"]
    wav = await env.api.raw(f"/api/voicemails/{item['id']}/audio")
    heard = env.work / "heard.wav"
    heard.write_bytes(wav)
    report = audio.analyse(heard, (TONE_HZ,))
    assert report.heard(TONE_HZ, 0.8)
    # What the citizen said is in the recording, whole: no more, no less.
    assert abs(report.active_s - SPOKEN_S) <= DURATION_TOLERANCE_S, report
    assert abs(item["duration_s"] - report.duration_s) <= 0.05
    assert 0 <= item["duration_s"] - report.active_s <= MAX_UNSPOKEN_S, (item, report)
    assert not any(env.spool.iterdir()), "the spool copy is released once registered"
    await asyncio.sleep(1)
    assert len(env.rows()) == 1


async def test_hang_up_at_the_beep_is_still_registered(env: Env) -> None:
    await env.service.start()
    await leave_message(env, CITIZENS[1], 0.0, "beep")
    item = (await registered(env, 1))[0]
    assert item["duration_s"] < LEAD_MARGIN_S + MAX_UNSPOKEN_S
    assert item["caller_num"] == CITIZENS[1].number


async def test_withheld_number(env: Env) -> None:
    await env.service.start()
    await leave_message(env, CITIZENS[2], 2.0, "withheld")
    item = (await registered(env, 1))[0]
    assert item["caller_withheld"] is True and item["caller_num"] is None


async def test_messages_recorded_while_down_and_a_killed_ingestion(env: Env) -> None:
    callers = (CITIZENS[0], CITIZENS[1], CITIZENS[3])
    await asyncio.gather(*(leave_message(env, c, 3.0, f"down{i}") for i, c in enumerate(callers)))
    waiting = sorted(p.name for p in env.spool.iterdir())
    assert len([n for n in waiting if n.endswith(".wav")]) == 3, waiting
    # Start, kill -9 almost at once (mid start-up ingestion), start again.
    process = env.service
    process.start_background()
    await asyncio.sleep(0.8)
    process.stop(kill=True)
    await env.service.start()
    items = await registered(env, 3)
    assert sorted(i["caller_num"] for i in items) == sorted(c.number for c in callers)
    assert {i["caller_name"] for i in items} >= {"张三丰", "王五"}
    rows = env.rows()
    assert len(rows) == 3 and len({r.recording_id for r in rows}) == 3
    assert not any(env.spool.iterdir())


async def test_file_that_is_not_a_wav(env: Env) -> None:
    env.spool.joinpath("1795900000-7.wav").write_bytes("不是音频".encode())
    env.spool.joinpath("1795900000-7.meta").write_text(
        "uniqueid=1795900000.7\nlinkedid=1795900000.7\nroute=after_hours\ncaller_num=13900000000\n"
        "caller_withheld=0\ncall_epoch=1795900000\nended=1795900010\n", encoding="utf-8")
    await env.service.start()  # the start-up pass finds what the spool holds
    item = (await registered(env, 1))[0]
    assert item["state"] == "needs_review"
    assert any("不是 WAV" in r["detail"] for r in item["review_reasons"])

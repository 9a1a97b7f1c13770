"""质检 through `hotline serve` against the sandbox PBX with a real seat phone: a call the seat
answers is recorded by Asterisk in two tracks, registered and measured by the service within a
minute of the hang-up, and drawn into the inspector's sample, both tracks playable; the seat
phone's hold (a real re-INVITE, Asterisk's Hold/Unhold) is in the measures as hold time."""

from __future__ import annotations

import asyncio
import io
import wave
from array import array
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from hotline.auth import Role
from hotline.phones.audio import duration, goertzel_power, tone
from tests.hall_pbx import HallPbx, instance_name, start_hall_pbx
from tests.integration.harness import Api, call_hotline, harness_client, seat_phone, wait_for
from tests.service_process import ServiceProcess

pytestmark = pytest.mark.pbx
OPERATOR_HZ = 1300.0
ENTRY_S = 40  # greeting, recording notice, the 工号 prompt and its timeout come before the queue
TALK_S = 5.0
HOLD_S = 3.0
MEASURED_WITHIN_S = 60


@pytest.fixture(scope="module")
def qa_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallPbx]:
    running = start_hall_pbx(instance_name("qa"), tmp_path_factory.mktemp("qa"),
                             {"queue.wrapup_seconds": "2", "quality.sample_share": "1"})
    try:
        yield running
    finally:
        running.stop()


def operator_tone_share(wav_bytes: bytes) -> float:
    """How much of the operator track's energy is the seat phone's tone."""
    with wave.open(io.BytesIO(wav_bytes)) as reader:
        rate, frames = reader.getframerate(), reader.readframes(reader.getnframes())
    samples = array("h", frames)
    middle = samples[len(samples) // 3: 2 * len(samples) // 3]
    energy = sum(s * s for s in middle) or 1
    return goertzel_power(middle, rate, OPERATOR_HZ) * 2 / (len(middle) * energy)


async def test_answered_call_is_measured_and_sampled_for_the_inspector(qa_pbx: HallPbx,
                                                                      tmp_path: Path) -> None:
    service = ServiceProcess(qa_pbx.config, tmp_path / "serve.log")
    source = tone(tmp_path / "seat.wav", OPERATOR_HZ, 60.0)
    await service.start()
    ami = await harness_client(qa_pbx.config)
    operator = Api(service.base_url, service.headers(Role.OPERATOR))
    inspector = Api(service.base_url, service.headers(Role.INSPECTOR))
    try:
        async with seat_phone(qa_pbx.config, "04", tmp_path / "phones", auto_answer=True,
                              audio_source=source, source_seconds=60.0) as seat:
            await operator.wait_state("04", "logged_out")
            assert (await operator.post("/api/seats/04/login")).status_code == 200
            await call_hotline(ami, qa_pbx.config, "13912345678")
            await operator.wait_state("04", "on_call", timeout=ENTRY_S)
            # the caller hears the 工号 announcement first; the recording starts when they talk
            await asyncio.sleep(duration(qa_pbx.rendered / "sounds" / "hotline" / "operator-04.wav") + TALK_S)
            await seat.command("hold")
            await asyncio.sleep(HOLD_S)
            await seat.command("resume")
            await asyncio.sleep(2.0)
            await seat.hangup()
            await seat.wait_for("CALL_CLOSED")
        today = datetime.now(qa_pbx.config.hall.tz).date().isoformat()

        async def sampled() -> list:
            items = await inspector.get(f"/api/qa/sample?day={today}")
            return [i for i in items if i["seat_id"] == "04" and i["measures"] is not None]

        (item,) = await wait_for(sampled, MEASURED_WITHIN_S, "the call measured and in the sample")
        assert item["reason"] == "random" and item["has_audio"]
        assert item["measures"]["duration_s"] >= TALK_S - 1
        assert item["measures"]["operator_level_dbfs"] > -40  # the seat's tone, not silence
        measures = item["measures"]
        assert (measures["hold_count"], measures["hold_observed"]) == (1, True)
        assert measures["hold_s"] == pytest.approx(HOLD_S, abs=0.5), measures
        (hold,) = [m for m in measures["moments"] if m["kind"] == "hold"]
        # the files may lack the hold (no audio flows while the seat phone holds): then a point
        assert 0 < hold["start_s"] <= hold["end_s"] <= measures["duration_s"], measures
        assert hold["value"] == measures["hold_s"]
        track = await inspector.raw(f"/api/qa/reviews/{item['id']}/audio/operator")
        assert operator_tone_share(track) > 0.5
        assert len(await inspector.raw(f"/api/qa/reviews/{item['id']}/audio/citizen")) > 44
    finally:
        service.stop()
        await ami.stop()
        qa_pbx.reset()

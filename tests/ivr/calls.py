"""Placing test calls into the rendered dialplan through AMI, and reading their results."""

from __future__ import annotations

import base64
import math
import wave
from pathlib import Path

from telephony.ami import Message
from telephony.ami.testing import AmiSession, user_event
from tests.ivr.pbx import IvrPbx

ENTRY = "Local/12345@hotline-entry/n"
SAMPLE_RATE = 8000
TONE_HZ = 600
TONE_AMPLITUDE = 12000


async def call_hotline(client: AmiSession, epoch: int | None, *, application: str = "Wait",
                       data: str = "2", callerid: str = '"张三" <13812345678>',
                       variables: tuple[str, ...] = ()) -> Message:
    """A citizen on a Local channel; ;1 runs `application` (what the citizen does/hears)."""
    forced = (f"HOTLINE_NOW={epoch}",) if epoch is not None else ()
    return await client.originate(ENTRY, Application=application, Data=data,
                                  CallerID=callerid, Variable=[*forced, *variables])


async def route_of(client: AmiSession, epoch: int) -> Message:
    """The HotlineRoute event of a call placed at `epoch`."""
    start = len(client.events)
    await call_hotline(client, epoch)
    return await client.wait_event(user_event("HotlineRoute", Epoch=str(epoch)), start=start)


def prompt_seconds(pbx: IvrPbx, *names: str) -> float:
    total = 0.0
    for name in names:
        with wave.open(str(pbx.out_dir / "sounds" / "hotline" / f"{name}.wav"), "rb") as wav:
            total += wav.getnframes() / wav.getframerate()
    return total


def write_speaker(path: Path, lead_s: float, tone_s: float, tail_s: float) -> Path:
    """What a test caller says: silence, a TONE_HZ tone, silence (8 kHz mono 16-bit)."""
    frames = bytearray(int(lead_s * SAMPLE_RATE) * 2)
    for i in range(int(tone_s * SAMPLE_RATE)):
        value = int(TONE_AMPLITUDE * math.sin(2 * math.pi * TONE_HZ * i / SAMPLE_RATE))
        frames += value.to_bytes(2, "little", signed=True)
    frames += bytes(int(tail_s * SAMPLE_RATE) * 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(bytes(frames))
    return path


def read_meta(path: Path) -> dict[str, str]:
    """The voicemail metadata: key=value lines; a repeated key would be a bug."""
    result: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        assert sep, f"not key=value: {line!r}"
        assert key not in result, f"{key} written twice in {path}"
        result[key] = value
    return result


def caller_name(meta: dict[str, str]) -> str:
    return base64.b64decode(meta["caller_name_b64"]).decode("utf-8")

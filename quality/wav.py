"""Reading call recordings into 8 kHz 16-bit tracks: one mono file per party (MixMonitor's r()
and t() files) or one interleaved stereo file (left = operator, right = citizen)."""

from __future__ import annotations

import sys
import wave
from array import array
from pathlib import Path

from quality.track import RATE


class RecordingError(ValueError):
    """The file is not a recording these measures can read; the message says why."""


def read_channels(path: Path | str) -> list[array]:
    """Each channel of a 16-bit PCM WAV at 8 kHz (or 16 kHz, averaged down)."""
    try:
        with wave.open(str(path), "rb") as reader:
            rate, channels, width = reader.getframerate(), reader.getnchannels(), reader.getsampwidth()
            raw = reader.readframes(reader.getnframes())
    except (OSError, wave.Error, EOFError) as exc:
        raise RecordingError(f"{path}：不是可读的 PCM WAV 文件（{exc}）") from exc
    if width != 2 or rate not in (RATE, 2 * RATE):
        raise RecordingError(f"{path}：{rate} Hz、{8 * width} 位；应为 8000 或 16000 Hz 的 16 位 PCM"
                             f"（可用 sox IN -r 8000 -b 16 OUT.wav 转换）")
    samples = array("h", raw[: len(raw) - len(raw) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    tracks = [samples[ch::channels] for ch in range(channels)]
    if rate == 2 * RATE:
        tracks = [array("h", [(a + b) // 2 for a, b in zip(t[0::2], t[1::2], strict=False)]) for t in tracks]
    return tracks


def read_mono(path: Path | str) -> array:
    """One party's track; a stereo file is refused here (its channels are two parties)."""
    channels = read_channels(path)
    if len(channels) != 1:
        raise RecordingError(f"{path}：有 {len(channels)} 个声道；每一方应为一个单声道文件")
    return channels[0]

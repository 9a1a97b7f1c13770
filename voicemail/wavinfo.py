"""Inspect a recording's WAV container so that bad audio is flagged, never dropped."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

WAV_MAGIC = b"RIFF"
WAVE_TAG = b"WAVE"
HEADER_BYTES = 44


@dataclass(frozen=True)
class WavInfo:
    ok: bool
    duration_s: float
    sample_rate: int = 0
    channels: int = 0
    sample_width: int = 0
    problem: str | None = None


def inspect_wav(path: Path) -> WavInfo:
    """Duration and format, or the reason the file is not usable audio."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return WavInfo(False, 0.0, problem=f"录音文件无法读取：{exc.strerror}")
    if size == 0:
        return WavInfo(False, 0.0, problem="录音文件为空（0 字节）")
    with path.open("rb") as handle:
        head = handle.read(12)
    if head[:4] != WAV_MAGIC or head[8:12] != WAVE_TAG:
        return WavInfo(False, 0.0, problem="不是 WAV 录音文件")
    try:
        with wave.open(str(path), "rb") as reader:
            rate, channels, width = reader.getframerate(), reader.getnchannels(), reader.getsampwidth()
            declared = reader.getnframes()
    except (wave.Error, EOFError) as exc:
        return WavInfo(False, 0.0, problem=f"WAV 文件头损坏：{exc}")
    if rate <= 0 or channels <= 0 or width <= 0:
        return WavInfo(False, 0.0, problem="WAV 文件头缺少音频格式")
    frame_bytes = channels * width
    available = max(0, size - HEADER_BYTES) // frame_bytes
    frames = min(declared, available) if declared else available
    duration = frames / rate
    if declared > available + 1:
        return WavInfo(False, duration, rate, channels, width,
                       problem=f"录音被截断：文件头标明 {declared / rate:.1f} 秒，实际只有 {duration:.1f} 秒")
    return WavInfo(True, duration, rate, channels, width)

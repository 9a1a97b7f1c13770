"""Finding a prompt inside what a party heard.

Through Local channels Asterisk relays our 8 kHz prompts sample for sample, so a prompt is
found by exact search of a few 20 ms chunks. Through a SIP phone the audio went through G.711,
so the same search runs on the prompt passed through A-law and mu-law (pure Python: audioop
is gone from newer Pythons): G.711 is deterministic, so the samples still match exactly.
"""

from __future__ import annotations

import array
import sys
import wave
from pathlib import Path

SAMPLE_RATE = 8000
CHUNK_SAMPLES = 160  # 20 ms, one RTP packet
PROBE_POSITIONS = (0.3, 0.5, 0.7)  # where in the prompt the probe chunks are taken


def samples(path: Path) -> array.array[int]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1, path
        data = array.array("h")
        data.frombytes(wav.readframes(wav.getnframes()))
    if sys.byteorder == "big":
        data.byteswap()
    return data


ULAW_SEGMENT_ENDS = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
ALAW_SEGMENT_ENDS = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


def _segment(value: int, ends: tuple[int, ...]) -> int:
    return next((i for i, end in enumerate(ends) if value <= end), len(ends))


def _ulaw_roundtrip(x: int) -> int:
    """G.711 mu-law encode then decode (the classic Sun reference algorithm)."""
    value = x >> 2
    mask = 0xFF
    if value < 0:
        value, mask = -value, 0x7F
    value = min(value, 8159) + (0x84 >> 2)
    seg = _segment(value, ULAW_SEGMENT_ENDS)
    code = (0x7F if seg >= 8 else (seg << 4) | ((value >> (seg + 1)) & 0x0F)) ^ mask
    code = ~code & 0xFF
    t = (((code & 0x0F) << 3) + 0x84) << ((code & 0x70) >> 4)
    return 0x84 - t if code & 0x80 else t - 0x84


def _alaw_roundtrip(x: int) -> int:
    """G.711 A-law encode then decode (the classic Sun reference algorithm)."""
    value = x >> 3
    if value >= 0:
        mask = 0xD5
    else:
        mask, value = 0x55, -value - 1
    seg = _segment(value, ALAW_SEGMENT_ENDS)
    if seg >= 8:
        code = 0x7F ^ mask
    else:
        shift = 1 if seg < 2 else seg
        code = ((seg << 4) | ((value >> shift) & 0x0F)) ^ mask
    code ^= 0x55
    t = (code & 0x0F) << 4
    seg = (code & 0x70) >> 4
    if seg == 0:
        t += 8
    else:
        t = (t + 0x108) << (seg - 1)
    return t if code & 0x80 else -t


CODECS = {"slin": lambda x: x, "ulaw": _ulaw_roundtrip, "alaw": _alaw_roundtrip}


def find_exact(heard: array.array[int], prompt: array.array[int],
               codecs: tuple[str, ...] = ("slin",)) -> float | None:
    """Seconds into `heard` where `prompt` starts, if every probe chunk is found there."""
    haystack = heard.tobytes()
    for codec in codecs:
        convert = CODECS[codec]
        offsets = set()
        for position in PROBE_POSITIONS:
            start = int(len(prompt) * position)
            chunk = array.array("h", (convert(s) for s in prompt[start:start + CHUNK_SAMPLES]))
            index = haystack.find(chunk.tobytes())
            while index >= 0 and index % 2:
                index = haystack.find(chunk.tobytes(), index + 1)
            if index < 0:
                break
            offsets.add(index // 2 - start)
        else:
            if len(offsets) == 1:
                return offsets.pop() / SAMPLE_RATE
    return None

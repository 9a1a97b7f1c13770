"""One track of a call: speech activity, syllable nuclei and level, from 8 kHz 16-bit samples.

Pure and language independent: no file, no clock, no model. webrtcvad (the `speech` extra) is
imported where it is used. Everything runs on 10 ms frames (80 samples): webrtcvad takes them,
and a syllable (Mandarin: one 字) lasts 120-300 ms, so its energy peak is several frames wide.

Syllable nuclei follow de Jong & Wempe (2009): peaks of the smoothed energy envelope inside
speech that stand out from the dips on both sides and from the track's speech level.
"""

from __future__ import annotations

import math
import operator
import sys
from array import array
from dataclasses import dataclass

RATE = 8000
FRAME = 80  # 10 ms
FRAME_S = FRAME / RATE
FULL_SCALE = 32768.0
CLIP_LEVEL = 32440

# A frame below this level is silence whatever the VAD says (line noise is about -60 dBFS).
ACTIVE_FLOOR_DBFS = -50.0
VAD_AGGRESSIVENESS = 2
# Pauses up to this long belong to the speech around them (the rule: pauses over 0.3 s are not
# speaking time); runs of speech shorter than MIN_SPEECH_S are clicks or breaths.
PAUSE_S = 0.3
MIN_SPEECH_S = 0.08

# Syllable nuclei: the envelope is smoothed over SMOOTH frames (linear energy, centred); a peak
# must be the highest within NUCLEUS_GAP_S, stand DIP_DB above the valley towards the previous
# nucleus, and lie within PEAK_RANGE_DB of the loudest frames of the track's speech.
SMOOTH = 5
NUCLEUS_GAP_S = 0.08
DIP_DB = 3.0
PEAK_RANGE_DB = 20.0


@dataclass(frozen=True)
class Track:
    """What one party's track holds, in seconds from the start of the recording and dBFS."""

    duration_s: float
    segments: tuple[tuple[float, float], ...]  # speech, pauses ≤ PAUSE_S bridged
    nuclei: tuple[float, ...]  # time of each syllable nucleus
    speech_dbfs: float  # RMS over speech frames (-120 when there is no speech)
    clipping_ratio: float  # share of all samples at full scale

    @property
    def speech_s(self) -> float:
        return sum(b - a for a, b in self.segments)


def frame_energies(samples: array) -> list[float]:
    """Mean square of each 10 ms frame."""
    mul = operator.mul
    return [sum(map(mul, f, f)) / FRAME
            for f in (samples[i:i + FRAME] for i in range(0, len(samples) - FRAME + 1, FRAME))]


def dbfs(mean_square: float) -> float:
    return 10.0 * math.log10(mean_square / FULL_SCALE**2) if mean_square > 0 else -120.0


def _vad_flags(samples: array, energies: list[float], pause_s: float) -> list[bool]:
    """webrtcvad on frames above the floor, pauses ≤ pause_s filled, blips dropped."""
    import webrtcvad  # the `speech` extra

    vad = webrtcvad.Vad(VAD_AGGRESSIVENESS)
    floor = (FULL_SCALE * 10 ** (ACTIVE_FLOOR_DBFS / 20)) ** 2
    data = samples.tobytes() if sys.byteorder == "little" else _swapped(samples)
    step = FRAME * 2
    flags = [e >= floor and vad.is_speech(data[i * step:(i + 1) * step], RATE)
             for i, e in enumerate(energies)]
    return _close_gaps(flags, round(pause_s / FRAME_S), round(MIN_SPEECH_S / FRAME_S))


def _close_gaps(flags: list[bool], max_gap: int, min_run: int) -> list[bool]:
    """Fill gaps of at most max_gap frames between speech, then drop runs shorter than min_run."""
    out = list(flags)
    last = None
    for i, flag in enumerate(flags):
        if flag:
            if last is not None and 1 < i - last <= max_gap + 1:
                out[last + 1:i] = [True] * (i - last - 1)
            last = i
    for start, end in runs(out):
        if end - start < min_run:
            out[start:end] = [False] * (end - start)
    return out


def runs(flags: list[bool]) -> list[tuple[int, int]]:
    """(first, end) frame indices of each run of True."""
    found, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            found.append((start, i))
            start = None
    return found


def _smoothed_db(energies: list[float]) -> list[float]:
    half = SMOOTH // 2
    padded = [0.0] * half + energies + [0.0] * half
    window = sum(padded[:SMOOTH - 1])
    out = []
    for i in range(len(energies)):
        window += padded[i + SMOOTH - 1]
        out.append(dbfs(window / SMOOTH))
        window -= padded[i]
    return out


def _nuclei(env: list[float], speech: list[bool]) -> list[int]:
    """Frames of syllable nuclei: prominent local maxima of the envelope inside speech."""
    levels = sorted(env[i] for i, s in enumerate(speech) if s)
    if not levels:
        return []
    floor = levels[int(0.95 * (len(levels) - 1))] - PEAK_RANGE_DB
    gap = max(1, round(NUCLEUS_GAP_S / FRAME_S))
    peaks: list[int] = []
    for start, end in runs(speech):
        for i in range(start, end):
            lo, hi = max(start, i - gap), min(end, i + gap + 1)
            if env[i] < floor or env[i] < max(env[lo:hi]) or (i > lo and env[i - 1] == env[i]):
                continue
            if peaks and peaks[-1] >= start:
                valley = min(env[peaks[-1]:i + 1])
                if min(env[i], env[peaks[-1]]) - valley < DIP_DB:
                    if env[i] > env[peaks[-1]]:
                        peaks[-1] = i
                    continue
            peaks.append(i)
    return peaks


def analyze_track(samples: array, pause_s: float = PAUSE_S) -> Track:
    """Measure one party's 8 kHz 16-bit mono track."""
    energies = frame_energies(samples)
    speech = _vad_flags(samples, energies, pause_s)
    nuclei = _nuclei(_smoothed_db(energies), speech)
    speech_energy = [e for e, s in zip(energies, speech, strict=True) if s]
    n = len(samples)
    clipped = sum(1 for s in samples if s >= CLIP_LEVEL or s <= -CLIP_LEVEL) if n else 0
    return Track(
        duration_s=round(n / RATE, 3),
        segments=tuple((round(a * FRAME_S, 2), round(b * FRAME_S, 2)) for a, b in runs(speech)),
        nuclei=tuple(round((i + 0.5) * FRAME_S, 3) for i in nuclei),
        speech_dbfs=round(dbfs(sum(speech_energy) / len(speech_energy)), 2) if speech_energy else -120.0,
        clipping_ratio=clipped / n if n else 0.0,
    )


def _swapped(samples: array) -> bytes:
    copy = array("h", samples)
    copy.byteswap()
    return copy.tobytes()

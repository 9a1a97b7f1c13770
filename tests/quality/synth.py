"""Synthetic two-track calls with known truth, for the quality tests and bench/qa_measures.py.

Mandarin comes from espeak-ng's cmn-latn-pinyin voice at a known rate (-s, words per minute);
syllables are counted from the pinyin text (one tone-numbered syllable = one 字). Each utterance
is placed on its party's track at a known moment, so talk-over and silences are known exactly.
The truth of an utterance's extent is read off its clean synthesis (frames above -45 dBFS), not
from the measures under test.
"""

from __future__ import annotations

import itertools
import math
import re
from array import array
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.voicemail import audio_fixtures as fx

RATE = fx.RATE
FRAME = 80  # 10 ms
TRUTH_FLOOR_DBFS = -45.0
PAUSE_S = 0.3
SYLLABLE = re.compile(r"[a-zü]+[1-5]")
Span = tuple[float, float]


def syllables(pinyin: str) -> int:
    """One tone-numbered pinyin syllable is one Chinese character."""
    return len(SYLLABLE.findall(pinyin))


@dataclass(frozen=True)
class Utterance:
    party: str  # operator | citizen
    start_s: float
    pinyin: str
    speed: int = 160  # espeak-ng -s
    voice: str = fx.VOICES[0]
    gain: float = 1.0


@dataclass(frozen=True)
class Placed:
    """An utterance on its track: its samples, where its sound is, and its pauses over 0.3 s."""

    utterance: Utterance
    samples: array
    sound: Span  # first to last frame above the truth floor, in call time
    pauses: tuple[Span, ...]  # inner pauses longer than PAUSE_S, in call time

    @property
    def speaking_s(self) -> float:
        return self.sound[1] - self.sound[0] - sum(b - a for a, b in self.pauses)


@cache
def _speech(workdir: Path, pinyin: str, voice: str, speed: int) -> array:
    name = f"u{abs(hash((pinyin, voice, speed))):x}.wav"
    return fx.read_samples(fx.espeak(workdir / name, pinyin, voice, speed))


def _loud_frames(samples: array) -> list[bool]:
    floor = FRAME * (32768 * 10 ** (TRUTH_FLOOR_DBFS / 20)) ** 2
    return [sum(s * s for s in samples[i:i + FRAME]) >= floor
            for i in range(0, len(samples) - FRAME + 1, FRAME)]


def place(workdir: Path, utterance: Utterance) -> Placed:
    """Synthesise an utterance and read its truth off the clean audio."""
    clean = _speech(workdir, utterance.pinyin, utterance.voice, utterance.speed)
    samples = clean if utterance.gain == 1.0 else array(
        "h", (max(-32768, min(32767, round(s * utterance.gain))) for s in clean))
    loud = [i for i, flag in enumerate(_loud_frames(clean)) if flag]
    t0, step = utterance.start_s, FRAME / RATE
    pauses = tuple((t0 + (a + 1) * step, t0 + b * step) for a, b in itertools.pairwise(loud)
                   if (b - a - 1) * step > PAUSE_S)
    return Placed(utterance, samples, (t0 + loud[0] * step, t0 + (loud[-1] + 1) * step), pauses)


@dataclass(frozen=True)
class Call:
    operator: array
    citizen: array
    placed: tuple[Placed, ...]

    def of(self, party: str) -> list[Placed]:
        return [p for p in self.placed if p.utterance.party == party]

    @property
    def operator_rate(self) -> float:
        """True operator syllables per minute of speaking time."""
        ops = self.of("operator")
        return sum(syllables(p.utterance.pinyin) for p in ops) / sum(p.speaking_s for p in ops) * 60

    @property
    def talk_overs(self) -> list[Span]:
        """Where the sound of an operator and a citizen utterance overlap."""
        found = []
        for op in self.of("operator"):
            for cit in self.of("citizen"):
                start, end = max(op.sound[0], cit.sound[0]), min(op.sound[1], cit.sound[1])
                if end > start:
                    found.append((start, end))
        return sorted(found)

    @property
    def silences(self) -> list[Span]:
        """Both silent between utterances (inner pauses of an utterance not counted)."""
        spans = sorted(p.sound for p in self.placed)
        gaps, reach = [], spans[0][1]
        for start, end in spans[1:]:
            if start > reach:
                gaps.append((reach, start))
            reach = max(reach, end)
        return gaps


def build_call(workdir: Path, script: list[Utterance], tail_s: float = 1.0) -> Call:
    """Two tracks of the same length holding each party's utterances at their moments."""
    placed = tuple(place(workdir, u) for u in script)
    length = max(math.ceil((p.utterance.start_s + tail_s) * RATE) + len(p.samples) for p in placed)
    tracks = {"operator": array("h", bytes(2 * length)), "citizen": array("h", bytes(2 * length))}
    for p in placed:
        track, first = tracks[p.utterance.party], round(p.utterance.start_s * RATE)
        track[first:first + len(p.samples)] = p.samples
    noise = array("h", fx.line_noise(length / RATE, level=20, seed=7))
    for track in tracks.values():
        for i in range(length):
            track[i] = max(-32768, min(32767, track[i] + noise[i]))
    return Call(tracks["operator"], tracks["citizen"], placed)

"""Test audio for SIP phones: make telephony wavs with sox/espeak-ng, and measure what a phone heard.

Everything is 8 kHz mono signed 16-bit, the format G.711 carries, so what a phone sends is what
Asterisk relays without resampling. The analysis is pure Python (Goertzel on the `wave` module's
samples) because numpy is not a dependency of the project.
"""

from __future__ import annotations

import array
import math
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

SAMPLE_RATE = 8000
CHANNELS = 1
SAMPLE_BITS = 16
SAMPLE_WIDTH = SAMPLE_BITS // 8
FULL_SCALE = 32768.0
DEFAULT_TONE_VOLUME = 0.5  # of full scale; leaves headroom for G.711 companding
DEFAULT_VOICE = "cmn-latn-pinyin"  # speaks Mandarin syllables; plain "cmn" spells pinyin in English
BLOCK_SECONDS = 0.05  # Goertzel block: 20 Hz resolution, short enough that RTP gaps do not cancel phase
ACTIVE_RMS = 0.01  # a block louder than this (of full scale) counts as "something was heard"
TOOL_TIMEOUT_S = 60.0
SOX_FORMAT = ("-r", str(SAMPLE_RATE), "-c", str(CHANNELS), "-b", str(SAMPLE_BITS), "-e", "signed-integer")


class AudioToolError(RuntimeError):
    """sox or espeak-ng is missing or failed; the message carries its stderr."""


def run_tool(argv: list[str]) -> None:
    """Run sox or espeak-ng, turning a missing binary or a failure into one clear error."""
    if shutil.which(argv[0]) is None:
        raise AudioToolError(f"{argv[0]} is not installed (needed for test audio)")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=TOOL_TIMEOUT_S, check=False)
    if result.returncode != 0:
        raise AudioToolError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")


def _pad_args(seconds: float, pad_to: float | None) -> list[str]:
    """sox effect that appends silence so the file lasts `pad_to` seconds."""
    if pad_to is None or pad_to <= seconds:
        return []
    return ["pad", "0", f"{pad_to - seconds:.3f}"]


def tone(
    path: Path, freq_hz: float, seconds: float, *, pad_to: float | None = None,
    volume: float = DEFAULT_TONE_VOLUME,
) -> Path:
    """A pure sine of `freq_hz` for `seconds`, then silence up to `pad_to` seconds."""
    run_tool(["sox", "-n", *SOX_FORMAT, str(path), "synth", f"{seconds:.3f}", "sine", str(freq_hz),
          "vol", str(volume), *_pad_args(seconds, pad_to)])
    return path


DTMF_ROWS = {"1": 697, "2": 697, "3": 697, "4": 770, "5": 770, "6": 770, "7": 852, "8": 852,
             "9": 852, "*": 941, "0": 941, "#": 941}
DTMF_COLUMNS = {"1": 1209, "4": 1209, "7": 1209, "*": 1209, "2": 1336, "5": 1336, "8": 1336,
                "0": 1336, "3": 1477, "6": 1477, "9": 1477, "#": 1477}
DTMF_KEY_S, DTMF_GAP_S, DTMF_AMPLITUDE = 0.12, 0.25, 6000


def dtmf(path: Path, keys: str, *, lead: float, pad_to: float) -> Path:
    """Keypad tones (two sines a key, as a phone sends them in band) after `lead` seconds of
    silence, then silence up to `pad_to` seconds."""
    frames = array.array("h", bytes(round(lead * SAMPLE_RATE) * SAMPLE_WIDTH))
    for key in keys:
        low, high = DTMF_ROWS[key], DTMF_COLUMNS[key]
        frames.extend(round(DTMF_AMPLITUDE * (math.sin(2 * math.pi * low * i / SAMPLE_RATE)
                                              + math.sin(2 * math.pi * high * i / SAMPLE_RATE)))
                      for i in range(round(DTMF_KEY_S * SAMPLE_RATE)))
        frames.extend([0] * round(DTMF_GAP_S * SAMPLE_RATE))
    frames.extend([0] * max(0, round(pad_to * SAMPLE_RATE) - len(frames)))
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(CHANNELS)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(frames.tobytes())
    return path


def silence(path: Path, seconds: float) -> Path:
    """Digital silence: what a party that should say nothing sends (written directly: sox takes ~1 s
    for the 10 minutes a phone's idle source lasts)."""
    frames = round(seconds * SAMPLE_RATE)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(CHANNELS)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(bytes(frames * SAMPLE_WIDTH * CHANNELS))
    return path


def to_telephony(src: Path, dst: Path, *, pad_to: float | None = None) -> Path:
    """Convert any wav to 8 kHz mono 16-bit, optionally padded with silence to `pad_to` seconds."""
    seconds = duration(src) if pad_to is not None else 0.0
    run_tool(["sox", str(src), *SOX_FORMAT, str(dst), *_pad_args(seconds, pad_to)])
    return dst


def speech(path: Path, text: str, *, voice: str = DEFAULT_VOICE, pad_to: float | None = None) -> Path:
    """Speak `text` with espeak-ng (Mandarin by default) and store it as telephony audio."""
    with tempfile.TemporaryDirectory(prefix="hotline-speech-") as tmp:
        raw = Path(tmp) / "raw.wav"
        run_tool(["espeak-ng", "-v", voice, "-w", str(raw), text])
        return to_telephony(raw, path, pad_to=pad_to)


def read_samples(path: Path) -> tuple[int, array.array[int]]:
    """Sample rate and the 16-bit samples of a mono wav (the first channel if there are more)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != SAMPLE_WIDTH:
            raise ValueError(f"{path}: {8 * wav.getsampwidth()}-bit samples, expected {SAMPLE_BITS}-bit")
        rate, channels = wav.getframerate(), wav.getnchannels()
        frames = wav.readframes(wav.getnframes())
    samples = array.array("h")
    samples.frombytes(frames[: len(frames) - len(frames) % SAMPLE_WIDTH])
    if sys.byteorder == "big":
        samples.byteswap()  # wav is little-endian
    if channels > 1:
        samples = samples[::channels]
    return rate, samples


def duration(path: Path) -> float:
    """Length in seconds from the wav header."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def rms(samples: array.array[int] | list[int]) -> float:
    """Root mean square as a fraction of full scale (0.0 silence, ~0.35 for a 0.5 sine)."""
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples)) / FULL_SCALE


def goertzel_power(samples: array.array[int] | list[int], rate: int, freq_hz: float) -> float:
    """|X(f)|^2 of one block at exactly `freq_hz` (no bin rounding), on raw sample values."""
    coeff = 2.0 * math.cos(2.0 * math.pi * freq_hz / rate)
    s_prev = s_prev2 = 0.0
    for x in samples:
        s = x + coeff * s_prev - s_prev2
        s_prev2, s_prev = s_prev, s
    return s_prev * s_prev + s_prev2 * s_prev2 - coeff * s_prev * s_prev2


@dataclass(frozen=True)
class AudioReport:
    """What a received wav contains: length, loudness and how much of its energy each tone holds."""

    path: Path
    duration_s: float
    rms: float
    active_s: float
    tone_share: dict[float, float]

    def heard(self, freq_hz: float, min_share: float) -> bool:
        """True when at least `min_share` of the received energy is at `freq_hz`."""
        return self.tone_share[freq_hz] >= min_share


def analyse(path: Path, freqs: tuple[float, ...] | list[float] = ()) -> AudioReport:
    """Measure a wav block by block so gaps and jitter in received RTP do not cancel a tone's phase.

    `tone_share[f]` is the fraction of the total energy found at f: about 1.0 for a pure tone, about 0.5
    each for two equal tones, near 0 for a frequency nobody sent. Silence gives 0 for every frequency.
    """
    rate, samples = read_samples(path)
    block = max(1, int(rate * BLOCK_SECONDS))
    total_energy = 0.0
    tone_energy = dict.fromkeys(freqs, 0.0)
    active_samples = 0
    for start in range(0, len(samples), block):
        chunk = samples[start : start + block]
        energy = float(sum(s * s for s in chunk))
        total_energy += energy
        if math.sqrt(energy / len(chunk)) / FULL_SCALE >= ACTIVE_RMS:
            active_samples += len(chunk)
        for freq in freqs:
            # A sinusoid of amplitude A gives |X|^2 ~ (A*N/2)^2 and carries A^2/2*N energy: 2|X|^2/N.
            tone_energy[freq] += 2.0 * goertzel_power(chunk, rate, freq) / len(chunk)
    share = {f: (e / total_energy if total_energy > 0 else 0.0) for f, e in tone_energy.items()}
    return AudioReport(
        path=path,
        duration_s=len(samples) / rate if rate else 0.0,
        rms=rms(samples),
        active_s=active_samples / rate if rate else 0.0,
        tone_share=share,
    )

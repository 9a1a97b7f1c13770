"""Language-independent facts about a recording, so triage never rests on the transcript alone.

The Vosk model may not even be Chinese, and it turns noise and tones into confident words; what
the audio itself says (speech activity, tones, silence) is what an "invalid" verdict must rest on.

Everything works on 8 kHz 16-bit mono samples (`array('h')`), the format Asterisk records. The
analysis is pure Python (no numpy in the venv): per 30 ms frame it takes the energy, a 4th-order
linear prediction gain (cheap: five dot products) and, only for frames the prediction says are
tonal, Goertzel-style correlations at the telephony tone frequencies. Sixty seconds take well
under a second.
"""

from __future__ import annotations

import math
import operator
import statistics
import sys
import wave
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from types import ModuleType

RATE = 8000
FRAME_MS = 30  # one of webrtcvad's 10/20/30 ms; 240 samples give 33 Hz tone resolution
FRAME = RATE * FRAME_MS // 1000
FRAME_S = FRAME_MS / 1000
FULL_SCALE = 32768.0

# Energy: a frame below this level is silence, whatever the VAD says (line noise is ~-60 dBFS).
ACTIVE_FLOOR_DBFS = -50.0
# Samples at or beyond this magnitude count as clipped.
CLIP_LEVEL = 32440

# Speech activity: aggressiveness 2 keeps quiet speakers while rejecting most steady noise;
# pauses up to 300 ms inside speech are bridged, and blips shorter than 120 ms dropped.
VAD_AGGRESSIVENESS = 2
BRIDGE_FRAMES = 10
MIN_SEGMENT_FRAMES = 4

# Linear prediction of order 4 (on a Hann-windowed frame) predicts one or two pure tones almost
# perfectly (35-65 dB), speech rarely (99.5 % of frames below 25 dB) and noise never. Only frames
# above the gate get the costlier tone correlations; their neighbours are re-checked as tone edges.
# After G.711 (mu-law or A-law) the quantisation noise caps a two-tone frame near 20-25 dB, so the
# gate is low: the tone shares below, not the gate, decide what a tone is.
LPC_ORDER = 4
TONAL_GATE_DB = 12.0
EDGE_SHARE = 0.6

# Telephony tones (Hz).
DTMF_LOW = (697, 770, 852, 941)
DTMF_HIGH = (1209, 1336, 1477, 1633)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")
CN_TONE = 450  # Chinese dial/busy/congestion/ringback tone
NA_BUSY = (480, 620)  # North American busy and reorder
FAX_CNG = 1100  # calling fax: 0.5 s on, 3 s off
FAX_CED = 2100  # answering fax / modem: 2.6-4 s continuous
NA_RING = (440, 480)  # North American ringback: 2 s on, 4 s off
NA_DIAL = (350, 440)  # North American dial tone
SIT_FREQS = (914, 985, 1371, 1429, 1777)  # special information tone ("the number is not in service")
BEEP = 1000  # the recording beep
TONE_FREQS = (*DTMF_LOW, *DTMF_HIGH, CN_TONE, *NA_BUSY, FAX_CNG, FAX_CED, NA_RING[0], NA_DIAL[0],
              *SIT_FREQS, BEEP)
# Auto-diallers key at 40 ms on / 40 ms off: DTMF is also looked for in 15 ms half frames, and a key
# press is two half frames (30 ms, the ITU lower bound for a digit is 23-40 ms).
HALF = FRAME // 2
DTMF_MIN_HALVES = 2

# Share of a frame's energy the named tone(s) must hold for the frame to be that tone.
TONE_SHARE = 0.7
DTMF_MIN_SHARE_EACH = 0.08  # twist: neither tone of a pair more than ~10 dB below the other
# Cadences (seconds): Chinese busy 0.35/0.35, congestion 0.7/0.7; NA busy 0.5/0.5, reorder 0.25.
BUSY_ON = (0.18, 0.9)
BUSY_MIN_BURSTS = 3
FAX_CNG_ON = (0.35, 0.8)
FAX_CED_MIN_S = 1.5
BEEP_WITHIN_S = 2.0  # a beep this close to the start is the recording beep
# Shortest run that names a tone: a partly filled frame at a burst's edge can look like another
# tone (450 Hz half a frame long resembles 440+480), so names need a steady stretch.
STEADY_TONE_S = 0.9  # ringback (1-2 s on) and dial tone (continuous)
SIT_MIN_S = 0.15  # each SIT segment lasts 274-380 ms
BEEP_MIN_S = 0.1

# Judgements.
TONE_ONLY_SHARE = 0.7  # of the active (non-silent) time
# Speech swings 15-25 dB between syllables and pauses (p90-p10 of frame levels); hiss, hum and
# line noise stay within a few dB. A flat spectrum (prediction gain near 0 dB, white noise) is
# allowed a little more swing. Speech under heavy noise (-10 dB SNR) still swings about 11 dB.
NOISE_MAX_SPREAD_DB = 6.0
FLAT_MAX_GAIN_DB = 2.0
FLAT_MAX_SPREAD_DB = 8.0
# A short message followed by a phone left off the hook is steady noise too: anything standing
# out of that background for half a second (speech 0 dB above white, pink or brown noise gives
# 0.9-2.4 s in 5 s; an hour of pure noise well under 0.5 s a minute) means it is not noise-only.
EVENT_LEVEL_DB = 6.0
EVENT_TILT = 0.3
NOISE_MAX_EVENT_S = 0.5
MIN_JUDGED_ACTIVE_S = 0.3
# Syllabic modulation: speech rises and falls 3-8 times a second (syllables); street noise swells
# over seconds, hiss not at all. The frame level (dB), smoothed over 90 ms, minus its 270 ms
# trend, swings at least 3 dB in speech frames; under white noise at -4 dB SNR espeak Mandarin
# still gives 3 s in 16 s, traffic swelling at 0.3-0.8 Hz 0-1.2 s in 20 s, hiss after a beep 0.2 s.
SYLLABIC_SMOOTH_FRAMES = 3
SYLLABIC_TREND_FRAMES = 9
SYLLABIC_DB = 3.0
NOISE_MAX_SYLLABIC_S = 1.5
NOISE_MAX_SYLLABIC_SHARE = 0.15  # of the VAD's speech time: short clean speech is mostly syllables
# Speech print for duplicates: order-10 LPC cepstrum of every other speech frame (60 ms hop),
# mean-removed per message (the line's colour), scaled by 100 and kept as integers.
PRINT_ORDER = 10
PRINT_HOP = 2
PRINT_SCALE = 100
PRINT_LEVEL_WEIGHT = 0.05  # per dB of level above the message's mean level


class AudioFormatError(ValueError):
    """The file is not audio this module can turn into 8 kHz 16-bit mono."""


@dataclass(frozen=True)
class Pcm:
    """8 kHz 16-bit mono samples and what the file held before conversion."""

    samples: array
    source_rate: int = RATE
    source_channels: int = 1
    source_width: int = 2

    @property
    def duration_s(self) -> float:
        return len(self.samples) / RATE

    def to_bytes(self) -> bytes:
        """Little-endian PCM, as Vosk and webrtcvad expect."""
        if sys.byteorder == "little":
            return self.samples.tobytes()
        swapped = array("h", self.samples)
        swapped.byteswap()
        return swapped.tobytes()


@dataclass(frozen=True)
class AudioFeatures:
    """What the audio says, in seconds and dB; the judgements at the end are for triage."""

    duration_s: float
    active_s: float  # frames above the silence floor
    speech_s: float  # VAD speech, tones excluded, smoothed (the VAD also fires on steady noise)
    speech_segments: tuple[tuple[float, float], ...]
    leading_silence_s: float  # before the first speech (the whole duration when no speech)
    trailing_silence_s: float  # after the last speech
    rms_dbfs: float
    peak_dbfs: float
    clipping_ratio: float
    dtmf_digits: str
    dtmf_s: float
    fax_cng: bool
    fax_ced: bool
    busy_tone: bool
    tone_s: float  # every frame recognised as a telephony tone
    prediction_gain_db: float  # median over active non-tone frames; ~0 dB for white noise
    level_spread_db: float  # p90-p10 of active frame levels
    events_s: float  # time standing out of the steady background (louder, or another spectrum)
    # From the first to the last sound that is not a tone: all a recogniser needs to hear.
    content_start_s: float
    content_end_s: float
    silent: bool
    tone_only: bool
    noise_only: bool
    # Added for triage on audio alone; defaults keep features stored before them readable.
    ringback: bool = False
    dial_tone: bool = False
    sit: bool = False
    beep_at_start: bool = False  # a 1 kHz beep in the first seconds: the recording beep
    syllabic_s: float = 0.0  # time the level rises and falls at syllable rate (see SYLLABIC_DB)
    speech_print: tuple[tuple[int, ...], ...] = ()  # see PRINT_ORDER; compared by voice_distance

    @property
    def content_span(self) -> tuple[float, float]:
        """What to give the recogniser: leading and trailing silence and tone tails left out."""
        return self.content_start_s, self.content_end_s

    @property
    def tones(self) -> tuple[str, ...]:
        """Names of the tones heard, for reasons and explanations."""
        names = []
        if self.dtmf_digits:
            names.append("dtmf")
        if self.fax_cng or self.fax_ced:
            names.append("fax")
        if self.busy_tone:
            names.append("busy")
        for name, heard in (("ringback", self.ringback), ("dial", self.dial_tone), ("sit", self.sit),
                            ("beep", self.beep_at_start)):
            if heard:
                names.append(name)
        return tuple(names)


# ---------------------------------------------------------------- reading and conversion


def load_pcm(path: Path | str) -> Pcm:
    """Read a PCM WAV and convert it to 8 kHz 16-bit mono, or say clearly why not."""
    try:
        with wave.open(str(path), "rb") as reader:
            rate, channels, width = reader.getframerate(), reader.getnchannels(), reader.getsampwidth()
            raw = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(f"{path}: not a PCM WAV file ({exc})") from exc
    samples = _to_int16(raw, width)
    samples = _to_mono(samples, channels)
    samples = _decimate(samples, rate)
    return Pcm(samples, rate, channels, width)


def _to_int16(raw: bytes, width: int) -> array:
    """Keep the 16 most significant bits of each sample."""
    if width == 2:
        out = array("h", raw[: len(raw) - len(raw) % 2])
    elif width == 1:  # unsigned 8-bit
        out = array("h", [(b - 128) << 8 for b in raw])
    elif width in (3, 4):
        hi = bytearray(len(raw) // width * 2)
        hi[0::2] = raw[width - 2 :: width]
        hi[1::2] = raw[width - 1 :: width]
        out = array("h", bytes(hi))
    else:
        raise AudioFormatError(f"unsupported sample width {width} bytes")
    if sys.byteorder == "big" and width != 1:
        out.byteswap()
    return out


def _to_mono(samples: array, channels: int) -> array:
    if channels == 1:
        return samples
    if channels < 1:
        raise AudioFormatError("WAV header has no channels")
    total = list(samples[0::channels])
    for ch in range(1, channels):
        total = list(map(operator.add, total, samples[ch::channels]))
    return array("h", [s // channels for s in total])


def _decimate(samples: array, rate: int) -> array:
    """Average k samples into one (a crude low-pass) for rates that are multiples of 8 kHz."""
    if rate == RATE:
        return samples
    if rate < RATE or rate % RATE:
        raise AudioFormatError(
            f"sample rate {rate} Hz is not 8000 Hz or a multiple of it; convert it first "
            f"(e.g. sox in.wav -r 8000 -c 1 -b 16 out.wav)")
    k = rate // RATE
    usable = len(samples) - len(samples) % k
    total = list(samples[0:usable:k])
    for i in range(1, k):
        total = list(map(operator.add, total, samples[i:usable:k]))
    return array("h", [s // k for s in total])


# ---------------------------------------------------------------- per-frame measures


def _tables() -> dict[int, list[complex]]:
    """Complex exponentials over one frame, one per tone frequency (exact-frequency Goertzel)."""
    return {f: [complex(math.cos(2 * math.pi * f * n / RATE), -math.sin(2 * math.pi * f * n / RATE))
                for n in range(FRAME)] for f in TONE_FREQS}


_TABLES = _tables()
_HALF_TABLES = {f: table[:HALF] for f, table in _TABLES.items() if f in (*DTMF_LOW, *DTMF_HIGH)}
_HANN = [0.5 - 0.5 * math.cos(2 * math.pi * (n + 0.5) / FRAME) for n in range(FRAME)]
_mul = operator.mul


def _lpc(frame: array) -> tuple[float, float]:
    """(prediction gain in dB, lag-1 correlation) of an order-4 autocorrelation LPC.

    The gain is the inverse of the spectral flatness of the order-4 envelope (white noise ~0 dB);
    the lag-1 correlation is the spectral tilt, steady for noise and jumping about for speech.
    """
    w = list(map(_mul, frame, _HANN))
    r = [sum(map(_mul, w, islice(w, k, None))) for k in range(LPC_ORDER + 1)]
    if r[0] <= 0:
        return 0.0, 0.0
    tilt = r[1] / r[0]
    err = r[0]
    a: list[float] = []
    for i in range(1, LPC_ORDER + 1):
        acc = r[i] - sum(a[j] * r[i - 1 - j] for j in range(len(a)))
        k = acc / err
        a = [a[j] - k * a[i - 2 - j] for j in range(len(a))] + [k]
        err *= 1.0 - k * k
        if err <= r[0] * 1e-9:
            return 90.0, tilt
    return 10.0 * math.log10(r[0] / err), tilt


def _tone_shares(frame: array, energy: float, freqs: Sequence[int] = TONE_FREQS) -> dict[int, float]:
    """Share of the frame's energy at each tone frequency (1.0 for a pure, whole-frame tone)."""
    scale = 2.0 / (FRAME * energy)
    return {f: abs(sum(map(_mul, frame, _TABLES[f]))) ** 2 * scale for f in freqs}


def _continues(label: str, frame: array, energy: float) -> bool:
    """Is this frame still the tone of the previous frame? (Tones last; two correlations, not 13.)"""
    shares = _tone_shares(frame, energy, _label_freqs(label))
    return sum(shares.values()) >= TONE_SHARE and min(shares.values()) >= DTMF_MIN_SHARE_EACH


def _classify_tone(shares: dict[int, float]) -> str | None:
    """'dtmf:5', 'cn', 'na', 'cng', 'ced' or None: which telephony tone fills the frame."""
    low = max(DTMF_LOW, key=shares.__getitem__)
    high = max(DTMF_HIGH, key=shares.__getitem__)
    candidates: list[tuple[float, str]] = []
    pair = shares[low] + shares[high]
    if min(shares[low], shares[high]) >= DTMF_MIN_SHARE_EACH:
        key = DTMF_KEYS[DTMF_LOW.index(low)][DTMF_HIGH.index(high)]
        candidates.append((pair, f"dtmf:{key}"))
    for pair, name in ((NA_BUSY, "na"), (NA_RING, "ring"), (NA_DIAL, "dial")):
        if min(shares[pair[0]], shares[pair[1]]) >= DTMF_MIN_SHARE_EACH:
            candidates.append((shares[pair[0]] + shares[pair[1]], name))
    candidates += [(shares[CN_TONE], "cn"), (shares[FAX_CNG], "cng"), (shares[FAX_CED], "ced"),
                   (shares[BEEP], "beep"), *((shares[f], f"sit:{f}") for f in SIT_FREQS)]
    best_share, best = max(candidates)
    return best if best_share >= TONE_SHARE else None


def _dtmf_halves(frame: array) -> tuple[str | None, str | None]:
    """The DTMF key filling each 15 ms half of a frame, if any (for keys shorter than two frames)."""
    keys: list[str | None] = []
    for half in (frame[:HALF], frame[HALF:]):
        energy = float(sum(map(_mul, half, half)))
        if energy <= 0:
            keys.append(None)
            continue
        scale = 2.0 / (HALF * energy)
        shares = {f: abs(sum(map(_mul, half, table))) ** 2 * scale for f, table in _HALF_TABLES.items()}
        low = max(DTMF_LOW, key=shares.__getitem__)
        high = max(DTMF_HIGH, key=shares.__getitem__)
        ok = (shares[low] + shares[high] >= TONE_SHARE
              and min(shares[low], shares[high]) >= DTMF_MIN_SHARE_EACH)
        keys.append(DTMF_KEYS[DTMF_LOW.index(low)][DTMF_HIGH.index(high)] if ok else None)
    return keys[0], keys[1]


def _label_freqs(label: str) -> tuple[int, ...]:
    if label.startswith("dtmf:"):
        for row, keys in enumerate(DTMF_KEYS):
            if label[5] in keys:
                return DTMF_LOW[row], DTMF_HIGH[keys.index(label[5])]
    if label.startswith("sit:"):
        return (int(label[4:]),)
    return {"cn": (CN_TONE,), "na": NA_BUSY, "ring": NA_RING, "dial": NA_DIAL, "cng": (FAX_CNG,),
            "ced": (FAX_CED,), "beep": (BEEP,)}[label]


def _runs(labels: Sequence[str | None], wanted: str) -> list[tuple[int, int]]:
    """(start, length) of each run of frames labelled `wanted` ('dtmf' matches any key)."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, label in enumerate([*labels, None]):
        hit = label is not None and (label == wanted or label.startswith(wanted + ":"))
        if hit and start is None:
            start = i
        elif not hit and start is not None:
            runs.append((start, i - start))
            start = None
    return runs


def _dtmf_digits(halves: Sequence[str | None]) -> str:
    """One digit per run of identical DTMF half frames long enough to be a key press."""
    digits = []
    i = 0
    while i < len(halves):
        key = halves[i]
        j = i
        while j < len(halves) and halves[j] == key:
            j += 1
        if key is not None and j - i >= DTMF_MIN_HALVES:
            digits.append(key)
        i = j
    return "".join(digits)


def _cadenced(runs: list[tuple[int, int]], on_range: tuple[float, float], min_bursts: int) -> bool:
    bursts = [n for _, n in runs if on_range[0] <= n * FRAME_S <= on_range[1]]
    return len(bursts) >= min_bursts


def _smooth_speech(flags: list[bool], labels: Sequence[str | None]) -> list[tuple[int, int]]:
    """Speech segments as (first, end) frame indices: bridge short pauses (never a tone), drop blips."""
    segments: list[list[int]] = []
    last_tone = -1
    for i, is_speech in enumerate(flags):
        if labels[i] is not None:
            last_tone = i
        if not is_speech:
            continue
        if segments and i - segments[-1][1] <= BRIDGE_FRAMES and last_tone < segments[-1][1]:
            segments[-1][1] = i + 1
        else:
            segments.append([i, i + 1])
    return [(a, b) for a, b in segments if b - a >= MIN_SEGMENT_FRAMES]


def _dbfs(mean_square: float) -> float:
    return 10.0 * math.log10(mean_square / FULL_SCALE**2) if mean_square > 0 else -120.0


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# ---------------------------------------------------------------- the analysis


@dataclass
class _Frames:
    """Per-frame measures of one recording (index = frame number)."""

    energy: list[float]
    active: list[bool]
    gain_db: list[float]
    tilt: list[float]
    label: list[str | None]
    total_energy: float
    peak: int
    clipped: int
    halves: list[str | None] = field(default_factory=list)  # DTMF key per 15 ms half frame


def _label_frame(frame: array, energy: float, previous: str | None) -> tuple[float, float, str | None,
                                                                              tuple[str | None, ...]]:
    """(prediction gain, tilt, tone label, DTMF key of each half) of one active frame."""
    gain, tilt, label = 0.0, 0.0, None
    if previous is not None and _continues(previous, frame, energy):
        label = previous
    else:
        gain, tilt = _lpc(frame)
        label = _classify_tone(_tone_shares(frame, energy)) if gain >= TONAL_GATE_DB else None
    halves: tuple[str | None, ...] = (None, None)
    if (label is None and gain >= TONAL_GATE_DB) or (label or "").startswith("dtmf:"):
        halves = _dtmf_halves(frame)
        if label is None:
            key = halves[0] or halves[1]
            label = f"dtmf:{key}" if key else None
    return gain, tilt, label, halves


def _measure_frames(samples: array) -> _Frames:
    """Energy, level, clipping, prediction gain and tone label of every 30 ms frame."""
    frames = _Frames([], [], [], [], [], 0.0, 0, 0)
    n_frames = len(samples) // FRAME
    floor = FRAME * FULL_SCALE**2 * 10 ** (ACTIVE_FLOOR_DBFS / 10)
    for i in range(n_frames):
        frame = samples[i * FRAME : (i + 1) * FRAME]
        energy = float(sum(map(_mul, frame, frame)))
        hi, lo = max(frame), min(frame)
        frames.peak = max(frames.peak, hi, -lo)
        if hi >= CLIP_LEVEL or lo <= -CLIP_LEVEL:
            frames.clipped += sum(1 for s in frame if s >= CLIP_LEVEL or s <= -CLIP_LEVEL)
        active = energy >= floor
        gain, tilt, label, halves = 0.0, 0.0, None, (None, None)
        if active:
            previous = frames.label[-1] if frames.label else None
            gain, tilt, label, halves = _label_frame(frame, energy, previous)
        frames.energy.append(energy)
        frames.active.append(active)
        frames.gain_db.append(gain)
        frames.tilt.append(tilt)
        frames.label.append(label)
        frames.halves.extend(halves)
    tail = samples[n_frames * FRAME :]
    frames.total_energy = sum(frames.energy) + float(sum(map(_mul, tail, tail)))
    if len(tail):
        frames.peak = max(frames.peak, max(tail), -min(tail))
    return frames


def _label_tone_edges(samples: array, frames: _Frames) -> None:
    """A tone's first and last frames are only partly filled: give them the tone's label.

    A tone filling a fraction f of a frame shows a share of only f; dividing by the fill (the
    frame's energy against its full neighbour's) tells a tone edge from speech next to a tone.
    """
    labels = frames.label
    for i, label in enumerate(list(labels)):
        if label is None:
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(labels) and labels[j] is None and frames.active[j]:
                freqs = _label_freqs(label)
                shares = _tone_shares(samples[j * FRAME : (j + 1) * FRAME], frames.energy[j], freqs)
                fill = min(1.0, frames.energy[j] / frames.energy[i])
                if sum(shares.values()) / fill >= EDGE_SHARE:
                    labels[j] = label


def _webrtcvad() -> ModuleType:
    """webrtcvad comes with the [speech] extra: imported only when audio is analysed, so the
    base install (`hotline check`, the CLI, the service without triage) never needs it."""
    try:
        import webrtcvad
    except ImportError as error:
        raise ImportError("语音分析需要 webrtcvad：请安装 speech 扩展（pip install 'hotline[speech]'）",
                          name="webrtcvad") from error
    return webrtcvad


def _speech_flags(samples: array, frames: _Frames) -> list[bool]:
    """webrtcvad on active frames that are not tones (the VAD takes tones for speech)."""
    vad = _webrtcvad().Vad(VAD_AGGRESSIVENESS)
    little = sys.byteorder == "little"
    flags = []
    for i, label in enumerate(frames.label):
        if label is not None or not frames.active[i]:
            flags.append(False)
            continue
        frame = samples[i * FRAME : (i + 1) * FRAME]
        flags.append(vad.is_speech(frame.tobytes() if little else _swapped(frame), RATE))
    return flags


def _event_frames(plain: list[int], levels: list[float], frames: _Frames) -> int:
    """Frames that stand out of the background: 6 dB louder than usual, or a different tilt."""
    if not plain:
        return 0
    usual_level = statistics.median(levels)
    usual_tilt = statistics.median(frames.tilt[i] for i in plain)
    return sum(1 for i, level in zip(plain, levels, strict=True)
               if level >= usual_level + EVENT_LEVEL_DB or abs(frames.tilt[i] - usual_tilt) >= EVENT_TILT)


def _moving_average(values: list[float], width: int) -> list[float]:
    half = width // 2
    total = [0.0]
    for v in values:
        total.append(total[-1] + v)
    return [(total[min(len(values), i + half + 1)] - total[max(0, i - half)])
            / (min(len(values), i + half + 1) - max(0, i - half)) for i in range(len(values))]


def _syllabic_frames(frames: _Frames) -> int:
    """Sound frames whose level swings at syllable rate (3-8 Hz) by SYLLABIC_DB or more.

    Silence and tones count as the floor, so a tone's cadence is not taken for syllables.
    """
    floor = ACTIVE_FLOOR_DBFS - 10.0
    levels = [max(floor, _dbfs(e / FRAME)) if label is None else floor
              for e, label in zip(frames.energy, frames.label, strict=True)]
    smooth = _moving_average(levels, SYLLABIC_SMOOTH_FRAMES)
    trend = _moving_average(levels, SYLLABIC_TREND_FRAMES)
    return sum(1 for i, (a, b) in enumerate(zip(smooth, trend, strict=True))
               if frames.active[i] and frames.label[i] is None and abs(a - b) >= SYLLABIC_DB)


def _lasting(labels: list[str | None], kind: str, seconds: float) -> bool:
    return any(n * FRAME_S >= seconds for _, n in _runs(labels, kind))


def _tone_facts(labels: list[str | None]) -> dict[str, bool]:
    """Which telephony tones the labelled frames make up (cadences and durations)."""
    first_beep = next((a for a, n in _runs(labels, "beep") if n * FRAME_S >= BEEP_MIN_S), None)
    busy = any(_cadenced(_runs(labels, kind), BUSY_ON, BUSY_MIN_BURSTS) for kind in ("cn", "na"))
    long_cn = any(n * FRAME_S > BUSY_ON[1] for _, n in _runs(labels, "cn"))  # ringback or dial tone
    return {
        "busy_tone": busy,
        "fax_cng": _cadenced(_runs(labels, "cng"), FAX_CNG_ON, 1),
        "fax_ced": any(length * FRAME_S >= FAX_CED_MIN_S for _, length in _runs(labels, "ced")),
        "ringback": _lasting(labels, "ring", STEADY_TONE_S) or (long_cn and not busy),
        "dial_tone": _lasting(labels, "dial", STEADY_TONE_S),
        "sit": _lasting(labels, "sit", SIT_MIN_S),
        "beep_at_start": first_beep is not None and first_beep * FRAME_S <= BEEP_WITHIN_S,
    }


def _lpc_cepstrum(frame: array, order: int = PRINT_ORDER) -> list[float] | None:
    """Cepstrum of the order-`order` LPC envelope of a Hann-windowed frame (None for a dead frame)."""
    w = list(map(_mul, frame, _HANN))
    r = [sum(map(_mul, w, islice(w, k, None))) for k in range(order + 1)]
    if r[0] <= 0:
        return None
    err, a = r[0], []
    for i in range(1, order + 1):
        k = (r[i] - sum(a[j] * r[i - 1 - j] for j in range(len(a)))) / err
        a = [a[j] - k * a[i - 2 - j] for j in range(len(a))] + [k]
        err *= 1.0 - k * k
        if err <= r[0] * 1e-9:
            return None
    c: list[float] = []
    for n in range(1, order + 1):
        c.append(a[n - 1] + sum((k / n) * c[k - 1] * a[n - k - 1] for k in range(1, n)))
    return c


def _speech_print(samples: array, frames: _Frames,
                  segments: list[tuple[int, int]]) -> tuple[tuple[int, ...], ...]:
    """What the speech sounds like, frame by frame, for acoustic duplicate detection."""
    rows: list[list[float]] = []
    for a, b in segments:
        for i in range(a, b, PRINT_HOP):
            cep = _lpc_cepstrum(samples[i * FRAME : (i + 1) * FRAME])
            if cep is not None:
                rows.append([*cep, _dbfs(frames.energy[i] / FRAME) * PRINT_LEVEL_WEIGHT])
    if not rows:
        return ()
    means = [statistics.fmean(col) for col in zip(*rows, strict=True)]
    return tuple(tuple(round((v - m) * PRINT_SCALE) for v, m in zip(row, means, strict=True)) for row in rows)


def analyze(samples: array) -> AudioFeatures:
    """Measure an 8 kHz 16-bit mono recording (see `load_pcm` for other formats)."""
    n = len(samples)
    duration = n / RATE
    frames = _measure_frames(samples)
    _label_tone_edges(samples, frames)
    segments = _smooth_speech(_speech_flags(samples, frames), frames.label)
    speech_s = sum(b - a for a, b in segments) * FRAME_S
    seg_times = tuple((round(a * FRAME_S, 3), round(b * FRAME_S, 3)) for a, b in segments)

    labels = frames.label
    active_s = sum(frames.active) * FRAME_S
    tone_s = sum(1 for label in labels if label is not None) * FRAME_S
    dtmf_s = sum(1 for label in labels if label is not None and label.startswith("dtmf:")) * FRAME_S
    plain = [i for i, label in enumerate(labels) if label is None and frames.active[i]]
    content = (plain[0] * FRAME_S, min(duration, (plain[-1] + 1) * FRAME_S)) if plain else (0.0, 0.0)
    levels = [_dbfs(frames.energy[i] / FRAME) for i in plain]
    gain_db = statistics.median(frames.gain_db[i] for i in plain) if plain else 0.0
    spread = _percentile(levels, 0.9) - _percentile(levels, 0.1) if levels else 0.0
    silent = active_s < MIN_JUDGED_ACTIVE_S
    tone_only = not silent and tone_s >= TONE_ONLY_SHARE * active_s
    events_s = _event_frames(plain, levels, frames) * FRAME_S
    syllabic_s = _syllabic_frames(frames) * FRAME_S
    steady = spread <= NOISE_MAX_SPREAD_DB or (gain_db <= FLAT_MAX_GAIN_DB and spread <= FLAT_MAX_SPREAD_DB)
    unmodulated = syllabic_s < NOISE_MAX_SYLLABIC_S and syllabic_s < NOISE_MAX_SYLLABIC_SHARE * speech_s
    noise_only = (not silent and not tone_only and len(plain) * FRAME_S >= MIN_JUDGED_ACTIVE_S
                  and ((steady and events_s < NOISE_MAX_EVENT_S) or unmodulated))
    return AudioFeatures(
        duration_s=round(duration, 3), active_s=round(active_s, 3), speech_s=round(speech_s, 3),
        speech_segments=seg_times,
        leading_silence_s=round(seg_times[0][0] if seg_times else duration, 3),
        trailing_silence_s=round(max(0.0, duration - seg_times[-1][1]) if seg_times else duration, 3),
        rms_dbfs=round(_dbfs(frames.total_energy / n) if n else -120.0, 2),
        peak_dbfs=round(20 * math.log10(frames.peak / FULL_SCALE) if frames.peak else -120.0, 2),
        clipping_ratio=frames.clipped / n if n else 0.0,
        dtmf_digits=_dtmf_digits(frames.halves), dtmf_s=round(dtmf_s, 3), tone_s=round(tone_s, 3),
        prediction_gain_db=round(gain_db, 2), level_spread_db=round(spread, 2), events_s=round(events_s, 3),
        content_start_s=round(content[0], 3), content_end_s=round(content[1], 3),
        silent=silent, tone_only=tone_only, noise_only=noise_only, syllabic_s=round(syllabic_s, 3),
        speech_print=_speech_print(samples, frames, segments), **_tone_facts(labels),
    )


def _swapped(frame: array) -> bytes:
    copy = array("h", frame)
    copy.byteswap()
    return copy.tobytes()


def analyze_file(path: Path | str) -> AudioFeatures:
    """Convenience for callers that have only the path."""
    return analyze(load_pcm(path).samples)


# ---------------------------------------------------------------- acoustic likeness of two messages

PRINT_MAX_CELLS = 200_000  # beyond this both prints are thinned, keeping the comparison under ~0.5 s


def voice_distance(a: Sequence[Sequence[int]], b: Sequence[Sequence[int]]) -> float | None:
    """How far the shorter speech print is from its best match inside the longer one (lower = alike).

    Subsequence dynamic time warping: the shorter message may match any stretch of the longer one
    (a short repeat of a fuller message), at its own pace. The result is the mean frame distance
    along the best path, in print units (cepstrum x 100); None when either print is empty.
    """
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if not short:
        return None
    step = 1
    while (len(short) // step) * (len(long_) // step) > PRINT_MAX_CELLS:
        step += 1
    short, long_ = short[::step], long_[::step]
    previous = [0.0] * len(long_)  # free start anywhere in the longer print
    for row in short:
        dist = [math.dist(row, col) for col in long_]
        current = [previous[0] + dist[0]]
        for j in range(1, len(long_)):
            current.append(dist[j] + min(previous[j], previous[j - 1], current[j - 1]))
        previous = current
    return min(previous) / len(short)

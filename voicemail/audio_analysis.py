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
from dataclasses import dataclass
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
LPC_ORDER = 4
TONAL_GATE_DB = 25.0
EDGE_SHARE = 0.6

# Telephony tones (Hz).
DTMF_LOW = (697, 770, 852, 941)
DTMF_HIGH = (1209, 1336, 1477, 1633)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")
CN_TONE = 450  # Chinese dial/busy/congestion/ringback tone
NA_BUSY = (480, 620)  # North American busy and reorder
FAX_CNG = 1100  # calling fax: 0.5 s on, 3 s off
FAX_CED = 2100  # answering fax / modem: 2.6-4 s continuous
TONE_FREQS = (*DTMF_LOW, *DTMF_HIGH, CN_TONE, *NA_BUSY, FAX_CNG, FAX_CED)

# Share of a frame's energy the named tone(s) must hold for the frame to be that tone.
TONE_SHARE = 0.7
DTMF_MIN_SHARE_EACH = 0.08  # twist: neither tone of a pair more than ~10 dB below the other
DTMF_MIN_FRAMES = 2  # 60 ms: a key press lasts at least 40 ms, usually 70 ms or more
# Cadences (seconds): Chinese busy 0.35/0.35, congestion 0.7/0.7; NA busy 0.5/0.5, reorder 0.25.
BUSY_ON = (0.18, 0.9)
BUSY_MIN_BURSTS = 3
FAX_CNG_ON = (0.35, 0.8)
FAX_CED_MIN_S = 1.5

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
    na = shares[NA_BUSY[0]] + shares[NA_BUSY[1]]
    if min(shares[NA_BUSY[0]], shares[NA_BUSY[1]]) >= DTMF_MIN_SHARE_EACH:
        candidates.append((na, "na"))
    candidates += [(shares[CN_TONE], "cn"), (shares[FAX_CNG], "cng"), (shares[FAX_CED], "ced")]
    best_share, best = max(candidates)
    return best if best_share >= TONE_SHARE else None


def _label_freqs(label: str) -> tuple[int, ...]:
    if label.startswith("dtmf:"):
        for row, keys in enumerate(DTMF_KEYS):
            if label[5] in keys:
                return DTMF_LOW[row], DTMF_HIGH[keys.index(label[5])]
    return {"cn": (CN_TONE,), "na": NA_BUSY, "cng": (FAX_CNG,), "ced": (FAX_CED,)}[label]


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


def _dtmf_digits(labels: Sequence[str | None]) -> str:
    """One digit per run of identical DTMF frames long enough to be a key press."""
    digits = []
    i = 0
    while i < len(labels):
        label = labels[i]
        j = i
        while j < len(labels) and labels[j] == label:
            j += 1
        if label is not None and label.startswith("dtmf:") and j - i >= DTMF_MIN_FRAMES:
            digits.append(label[5:])
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
        previous = frames.label[-1] if frames.label else None
        gain, tilt, label = 0.0, 0.0, None
        if active and previous is not None and _continues(previous, frame, energy):
            label = previous
        elif active:
            gain, tilt = _lpc(frame)
            label = _classify_tone(_tone_shares(frame, energy)) if gain >= TONAL_GATE_DB else None
        frames.energy.append(energy)
        frames.active.append(active)
        frames.gain_db.append(gain)
        frames.tilt.append(tilt)
        frames.label.append(label)
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


def analyze(samples: array) -> AudioFeatures:
    """Measure an 8 kHz 16-bit mono recording (see `load_pcm` for other formats)."""
    n = len(samples)
    duration = n / RATE
    frames = _measure_frames(samples)
    _label_tone_edges(samples, frames)
    segments = _smooth_speech(_speech_flags(samples, frames), frames.label)
    speech_s = sum(b - a for a, b in segments) * FRAME_S
    seg_times = tuple((round(a * FRAME_S, 3), round(b * FRAME_S, 3)) for a, b in segments)
    leading = seg_times[0][0] if seg_times else duration
    trailing = max(0.0, duration - seg_times[-1][1]) if seg_times else duration

    labels = frames.label
    active_s = sum(frames.active) * FRAME_S
    tone_s = sum(1 for label in labels if label is not None) * FRAME_S
    dtmf_s = sum(1 for label in labels if label is not None and label.startswith("dtmf:")) * FRAME_S
    busy = any(_cadenced(_runs(labels, kind), BUSY_ON, BUSY_MIN_BURSTS) for kind in ("cn", "na"))
    fax_cng = _cadenced(_runs(labels, "cng"), FAX_CNG_ON, 1)
    fax_ced = any(length * FRAME_S >= FAX_CED_MIN_S for _, length in _runs(labels, "ced"))

    plain = [i for i, label in enumerate(labels) if label is None and frames.active[i]]
    content = (plain[0] * FRAME_S, min(duration, (plain[-1] + 1) * FRAME_S)) if plain else (0.0, 0.0)
    levels = [_dbfs(frames.energy[i] / FRAME) for i in plain]
    gain_db = statistics.median(frames.gain_db[i] for i in plain) if plain else 0.0
    spread = _percentile(levels, 0.9) - _percentile(levels, 0.1) if levels else 0.0
    silent = active_s < MIN_JUDGED_ACTIVE_S
    tone_only = not silent and tone_s >= TONE_ONLY_SHARE * active_s
    events_s = _event_frames(plain, levels, frames) * FRAME_S
    steady = spread <= NOISE_MAX_SPREAD_DB or (gain_db <= FLAT_MAX_GAIN_DB and spread <= FLAT_MAX_SPREAD_DB)
    noise_only = (not silent and not tone_only and len(plain) * FRAME_S >= MIN_JUDGED_ACTIVE_S
                  and steady and events_s < NOISE_MAX_EVENT_S)
    return AudioFeatures(
        duration_s=round(duration, 3),
        active_s=round(active_s, 3),
        speech_s=round(speech_s, 3),
        speech_segments=seg_times,
        leading_silence_s=round(leading, 3),
        trailing_silence_s=round(trailing, 3),
        rms_dbfs=round(_dbfs(frames.total_energy / n) if n else -120.0, 2),
        peak_dbfs=round(20 * math.log10(frames.peak / FULL_SCALE) if frames.peak else -120.0, 2),
        clipping_ratio=frames.clipped / n if n else 0.0,
        dtmf_digits=_dtmf_digits(labels),
        dtmf_s=round(dtmf_s, 3),
        fax_cng=fax_cng,
        fax_ced=fax_ced,
        busy_tone=busy,
        tone_s=round(tone_s, 3),
        prediction_gain_db=round(gain_db, 2),
        level_spread_db=round(spread, 2),
        events_s=round(events_s, 3),
        content_start_s=round(content[0], 3),
        content_end_s=round(content[1], 3),
        silent=silent,
        tone_only=tone_only,
        noise_only=noise_only,
    )


def _swapped(frame: array) -> bytes:
    copy = array("h", frame)
    copy.byteswap()
    return copy.tobytes()


def analyze_file(path: Path | str) -> AudioFeatures:
    """Convenience for callers that have only the path."""
    return analyze(load_pcm(path).samples)

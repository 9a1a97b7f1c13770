"""The automatic measures of one call from its two tracks (operator, citizen): a pure fold.

Input: two `Track`s (see track.py) and the hold intervals the call record knows (hold is the
operator's choice, not a silence of the conversation). Output: `CallMeasures`, plain numbers in
seconds, syllables per minute and dBFS, the moments an inspector should jump to, and the names of
the limits the call broke (`flags`), which put it into the day's inspection sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from quality.track import Track

Span = tuple[float, float]


@dataclass(frozen=True)
class Limits:
    """What counts as a problem; configuration ([quality] in hotline.conf) may change each."""

    too_fast_per_min: float = 260.0  # operator syllables (字) per minute of speaking time
    rate_window_s: float = 10.0  # speech rate is judged per window of the call
    min_rated_speech_s: float = 3.0  # a window with less operator speech gets no rate
    too_fast_flag_share: float = 0.2  # flag the call when this share of the speech is too fast
    min_talk_over_s: float = 0.3  # shorter overlaps are back-channel ("嗯", "对")
    talk_over_flag_count: int = 3
    long_silence_s: float = 5.0  # both silent at least this long (hold not counted)
    quiet_dbfs: float = -35.0  # operator speech level below this is too quiet
    clipping_share: float = 0.001  # share of the operator's samples at full scale


def limits_from(values: dict[str, object]) -> Limits:
    """Limits from a mapping that may hold other keys too (the [quality] section holds the form)."""
    return Limits(**{k: v for k, v in values.items() if k in Limits.__dataclass_fields__})  # type: ignore[arg-type]


@dataclass(frozen=True)
class Moment:
    """A stretch of the call worth listening to; `who` is the interrupter for talk-over."""

    kind: str  # talk_over | silence | too_fast | hold
    start_s: float
    end_s: float
    who: str | None = None
    value: float | None = None  # syllables per minute for too_fast


@dataclass(frozen=True)
class CallMeasures:
    duration_s: float
    operator_speech_s: float
    citizen_speech_s: float
    operator_syllables: int
    operator_syllables_per_min: float
    too_fast_share: float
    talk_over_count: int
    talk_over_s: float
    interruptions_by_operator: int
    interruptions_by_citizen: int
    silence_count: int
    longest_silence_s: float
    hold_s: float  # as long as the citizen waited (the files may lack it, see quality.hold)
    hold_count: int
    operator_level_dbfs: float
    operator_too_quiet: bool
    operator_clipping_ratio: float
    operator_clipping: bool
    flags: tuple[str, ...]
    moments: tuple[Moment, ...] = field(default=())

    def to_dict(self) -> dict:
        """JSON-ready: every number rounded to what a person can use."""
        return asdict(self) | {"flags": list(self.flags), "moments": [asdict(m) for m in self.moments]}


def overlaps(a: Sequence[Span], b: Sequence[Span]) -> list[tuple[float, float, Span, Span]]:
    """Each stretch where a span of `a` and one of `b` both hold, with the two spans."""
    found, j = [], 0
    for sa in a:
        while j < len(b) and b[j][1] <= sa[0]:
            j += 1
        k = j
        while k < len(b) and b[k][0] < sa[1]:
            start, end = max(sa[0], b[k][0]), min(sa[1], b[k][1])
            if end > start:
                found.append((start, end, sa, b[k]))
            k += 1
    return found


def talk_overs(operator: Track, citizen: Track, min_s: float) -> list[Moment]:
    """Both speaking at once for at least min_s; whoever started later interrupted the other."""
    moments = []
    for start, end, op, cit in overlaps(operator.segments, citizen.segments):
        if end - start < min_s:
            continue
        who = "citizen" if cit[0] > op[0] else "operator" if op[0] > cit[0] else "both"
        moments.append(Moment("talk_over", round(start, 2), round(end, 2), who))
    return moments


def _subtract(span: Span, holes: Sequence[Span]) -> list[Span]:
    parts = [span]
    for h0, h1 in holes:
        parts = [p for a, b in parts for p in ((a, min(b, h0)), (max(a, h1), b)) if p[1] > p[0]]
    return parts


def silences(operator: Track, citizen: Track, hold: Sequence[Span]) -> list[Span]:
    """Both silent, between the first and the last speech of the call, hold left out."""
    spans = sorted([*operator.segments, *citizen.segments])
    gaps: list[Span] = []
    reach = spans[0][1] if spans else 0.0
    for start, end in spans[1:]:
        if start > reach:
            gaps += _subtract((reach, start), hold)
        reach = max(reach, end)
    return [(round(a, 2), round(b, 2)) for a, b in gaps]


def _speech_within(track: Track, start: float, end: float) -> float:
    return sum(max(0.0, min(b, end) - max(a, start)) for a, b in track.segments)


def rate_windows(operator: Track, limits: Limits) -> list[Moment]:
    """Operator speech rate per window of the call (windows with too little speech skipped)."""
    windows, start = [], 0.0
    while start < operator.duration_s:
        end = min(operator.duration_s, start + limits.rate_window_s)
        speech = _speech_within(operator, start, end)
        if speech >= limits.min_rated_speech_s:
            count = sum(1 for t in operator.nuclei if start <= t < end)
            windows.append(Moment("rate", start, end, "operator", round(count / speech * 60, 1)))
        start = end
    return windows


def measure_call(operator: Track, citizen: Track, hold: Sequence[Span] = (),
                 limits: Limits = Limits(), hold_lengths: Sequence[float] | None = None) -> CallMeasures:
    """Fold two measured tracks and the call's hold intervals into the call's measures. On hold the
    two do not hear each other: speaking at once then is no talk-over, a pause no silence."""
    overs = [m for m in talk_overs(operator, citizen, limits.min_talk_over_s)
             if not any(a <= (m.start_s + m.end_s) / 2 < b for a, b in hold)]
    gaps = silences(operator, citizen, hold)
    long_gaps = [g for g in gaps if g[1] - g[0] >= limits.long_silence_s]
    windows = rate_windows(operator, limits)
    fast = [w for w in windows if (w.value or 0) > limits.too_fast_per_min]
    rated_s = sum(_speech_within(operator, w.start_s, w.end_s) for w in windows)
    fast_s = sum(_speech_within(operator, w.start_s, w.end_s) for w in fast)
    speech_s = operator.speech_s
    lengths = list(hold_lengths) if hold_lengths is not None else [round(b - a, 2) for a, b in hold]
    measures = CallMeasures(
        duration_s=max(operator.duration_s, citizen.duration_s),
        operator_speech_s=round(speech_s, 2),
        citizen_speech_s=round(citizen.speech_s, 2),
        operator_syllables=len(operator.nuclei),
        operator_syllables_per_min=round(len(operator.nuclei) / speech_s * 60, 1) if speech_s else 0.0,
        too_fast_share=round(fast_s / rated_s, 3) if rated_s else 0.0,
        talk_over_count=len(overs),
        talk_over_s=round(sum(m.end_s - m.start_s for m in overs), 2),
        interruptions_by_operator=sum(1 for m in overs if m.who == "operator"),
        interruptions_by_citizen=sum(1 for m in overs if m.who == "citizen"),
        silence_count=len(long_gaps),
        longest_silence_s=round(max((b - a for a, b in gaps), default=0.0), 2),
        hold_s=round(sum(lengths), 2),
        hold_count=len(hold),
        operator_level_dbfs=operator.speech_dbfs,
        operator_too_quiet=speech_s > 0 and operator.speech_dbfs < limits.quiet_dbfs,
        operator_clipping_ratio=round(operator.clipping_ratio, 5),
        operator_clipping=operator.clipping_ratio > limits.clipping_share,
        flags=(),
        moments=tuple(sorted([*overs, *(Moment("silence", a, b) for a, b in long_gaps),
                              *(Moment("too_fast", w.start_s, w.end_s, "operator", w.value) for w in fast),
                              *(Moment("hold", round(a, 2), round(b, 2), value=length)
                                for (a, b), length in zip(hold, lengths, strict=True))],
                             key=lambda m: m.start_s)),
    )
    return _with_flags(measures, limits)


def _with_flags(m: CallMeasures, limits: Limits) -> CallMeasures:
    """Name every limit the call broke (the call then joins the day's inspection sample)."""
    flags = [name for name, broke in (
        ("too_fast", m.too_fast_share >= limits.too_fast_flag_share and m.too_fast_share > 0),
        ("talk_over", m.talk_over_count >= limits.talk_over_flag_count),
        ("long_silence", m.silence_count > 0),
        ("too_quiet", m.operator_too_quiet),
        ("clipping", m.operator_clipping),
    ) if broke]
    return CallMeasures(**{**m.__dict__, "flags": tuple(flags)})

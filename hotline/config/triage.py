"""Triage settings: keyword lists and thresholds, from hotline.conf's [triage] section or defaults.

Every list is the hall's to change; the defaults are what a 12345 hall sees most nights.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import timedelta

DEFAULT_ADVERT_KEYWORDS = (
    "贷款", "借款", "放款", "网贷", "代办", "代开", "发票", "优惠", "促销", "特价", "推广", "加微信",
    "微信号", "加qq", "理财", "投资", "股票", "中奖", "领取", "返利", "刷单", "兼职", "办证", "信用卡",
    "套现", "装修报价", "回复退订", "退订",
)
# A message that names an advert to complain about it is a request, not an advert.
DEFAULT_COMPLAINT_KEYWORDS = ("投诉", "举报", "反映", "被骗", "诈骗", "骗子", "维权", "骚扰", "报警")
# Danger to people or property tonight; a long outage (停水) is important but waits for the morning.
DEFAULT_URGENT_KEYWORDS = (
    "燃气", "煤气", "天然气", "漏气", "漏水", "爆管", "水管爆", "停电", "火灾", "着火", "起火", "冒烟",
    "救命", "触电", "坍塌", "倒塌", "被困", "受伤", "中毒",
)
_LIST_SPLIT = re.compile(r"[,，、]")


@dataclass(frozen=True)
class TriageSettings:
    """Rules of triage; hotline.conf keys are the field names (durations in their unit's suffix)."""

    advert_keywords: tuple[str, ...] = DEFAULT_ADVERT_KEYWORDS
    advert_min_hits: int = 2  # distinct advert words; one alone (发票, 信用卡) is often a complaint
    complaint_keywords: tuple[str, ...] = DEFAULT_COMPLAINT_KEYWORDS
    urgent_keywords: tuple[str, ...] = DEFAULT_URGENT_KEYWORDS
    duplicate_window: timedelta = timedelta(hours=12)
    # Share of the shorter transcript's character bigrams found in the longer one.
    duplicate_similarity: float = 0.6
    # Acoustic duplicates (any model): mean cepstral distance along the best alignment of the
    # shorter speech print inside the longer (voicemail.audio_analysis.voice_distance). Espeak
    # repeats of the same words by the same voice score 30-70, even through G.711 and noise;
    # other words or another voice 125-140.
    duplicate_voice_distance: float = 90.0
    duplicate_min_print_frames: int = 30  # about 1.8 s of speech on each side
    hangup_max_s: float = 3.0  # shorter, with no speech: the caller hung up at the beep
    min_speech_s: float = 1.0  # less speech than this carries no request
    no_speech_s: float = 0.3  # below this the VAD heard nothing at all
    min_transcript_chars: int = 4
    min_chars_per_speech_s: float = 1.0  # Mandarin runs at 3-5 characters a second
    min_transcript_confidence: float = 0.5


# hotline.conf key -> (field, parser)
def _keywords(value: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in _LIST_SPLIT.split(value) if word.strip())


def _minutes(value: str) -> timedelta:
    return timedelta(minutes=float(value))


CONF_KEYS = {
    "advert_keywords": ("advert_keywords", _keywords),
    "advert_min_hits": ("advert_min_hits", int),
    "complaint_keywords": ("complaint_keywords", _keywords),
    "urgent_keywords": ("urgent_keywords", _keywords),
    "duplicate_window_minutes": ("duplicate_window", _minutes),
    "duplicate_similarity": ("duplicate_similarity", float),
    "duplicate_voice_distance": ("duplicate_voice_distance", float),
    "duplicate_min_print_frames": ("duplicate_min_print_frames", int),
    "hangup_max_seconds": ("hangup_max_s", float),
    "min_speech_seconds": ("min_speech_s", float),
    "no_speech_seconds": ("no_speech_s", float),
    "min_transcript_chars": ("min_transcript_chars", int),
    "min_chars_per_speech_second": ("min_chars_per_speech_s", float),
    "min_transcript_confidence": ("min_transcript_confidence", float),
}


def settings_from_section(section: Mapping[str, str]) -> TriageSettings:
    """Build settings from a [triage] section (missing keys keep their defaults; lists split on , ，、)."""
    values = {}
    for key, raw in section.items():
        if key not in CONF_KEYS:
            raise ValueError(f"[triage] 未知的键“{key}”；可用的键：{'、'.join(sorted(CONF_KEYS))}")
        field_name, parse = CONF_KEYS[key]
        try:
            values[field_name] = parse(raw)
        except ValueError as exc:
            raise ValueError(f"[triage] {key} = “{raw}”：应为数字") from exc
    settings = TriageSettings(**values)
    _check(settings)
    return settings


def _check(settings: TriageSettings) -> None:
    for f in fields(settings):
        value = getattr(settings, f.name)
        if isinstance(value, int | float) and value < 0:
            raise ValueError(f"[triage] {f.name} 不能为负数")
    if not 0.0 < settings.duplicate_similarity <= 1.0:
        raise ValueError("[triage] duplicate_similarity 必须大于 0 且不大于 1")
    if settings.advert_min_hits < 1:
        raise ValueError("[triage] advert_min_hits 至少为 1")

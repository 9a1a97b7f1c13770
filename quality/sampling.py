"""The inspection workflow's rules, pure: the day's sample, the scoring form, a review's total,
and the weekly summary per operator. No store, no clock: the shell hands rows and dates in.

- Sample: every call a measure flagged, plus a configurable share of the others drawn at random
  — reproducibly: the draw is seeded by the day, so asking again gives the same sample.
- Form: items and weights from configuration (``服务态度:30, 政策解答正确:30, …``); each item is
  scored 0-100 and the total is the weighted mean, so weights need not add up to 100.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

REASON_FLAGGED = "flagged"
REASON_RANDOM = "random"
ITEM_MAX = 100
DEFAULT_FORM = "服务态度:30, 政策解答正确:30, 语速与清晰度:20, 规范用语:20"
_SEPARATORS = re.compile(r"[,，、]")


class FormError(ValueError):
    """A form in the configuration, or a review against it, that cannot be used; says why in Chinese."""


@dataclass(frozen=True)
class FormItem:
    name: str
    weight: float


def parse_form(text: str) -> tuple[FormItem, ...]:
    """``名称:权重`` pairs separated by , ， or 、 (a full-width colon works too)."""
    items: list[FormItem] = []
    for part in (p.strip() for p in _SEPARATORS.split(text)):
        if not part:
            continue
        name, sep, weight = part.replace("：", ":").rpartition(":")
        try:
            value = float(weight) if sep else math.nan
        except ValueError:
            value = math.nan
        if not name.strip() or not value > 0:
            raise FormError(f"评分项 {part!r} 应写成 名称:正数权重，例如 服务态度:30")
        if any(item.name == name.strip() for item in items):
            raise FormError(f"评分项 {name.strip()!r} 重复")
        items.append(FormItem(name.strip(), value))
    if not items:
        raise FormError("评分表没有评分项")
    return tuple(items)


def total_score(form: tuple[FormItem, ...], scores: Mapping[str, float]) -> float:
    """The weighted mean of the item scores (0-100); every item scored, nothing else."""
    names = {item.name for item in form}
    unknown = sorted(set(scores) - names)
    missing = [item.name for item in form if item.name not in scores]
    if unknown:
        raise FormError(f"评分表中没有这些评分项：{'、'.join(unknown)}")
    if missing:
        raise FormError(f"还有评分项未打分：{'、'.join(missing)}")
    for name, value in scores.items():
        if not 0 <= value <= ITEM_MAX:
            raise FormError(f"{name} 的分数 {value:g} 超出 0-{ITEM_MAX}")
    weight = sum(item.weight for item in form)
    return round(sum(item.weight * scores[item.name] for item in form) / weight, 1)


def draw_sample(day: date, calls: Iterable[tuple[str, Iterable[str]]], share: float) -> list[tuple[str, str]]:
    """(recording id, reason) of the day's sample from (recording id, flags) of its calls."""
    flagged, others = [], []
    for recording_id, flags in sorted(calls, key=lambda c: c[0]):
        (flagged if list(flags) else others).append(recording_id)
    count = min(len(others), math.ceil(share * len(others))) if share > 0 else 0
    drawn = random.Random(day.isoformat()).sample(others, count)
    return sorted([(r, REASON_FLAGGED) for r in flagged] + [(r, REASON_RANDOM) for r in drawn])


def weekly_summary(reviews: Iterable[tuple[str, date, float]]) -> list[dict[str, object]]:
    """Per operator (工号) and ISO week: how many calls were scored and their mean total."""
    groups: dict[tuple[str, str], list[float]] = {}
    for seat_id, day, total in reviews:
        year, week, _ = day.isocalendar()
        groups.setdefault((seat_id, f"{year}-W{week:02d}"), []).append(total)
    return [{"seat_id": seat, "week": week, "scored": len(totals),
             "mean_score": round(sum(totals) / len(totals), 1)}
            for (seat, week), totals in sorted(groups.items())]

"""The inspection rules: the day's sample, the scoring form and totals, the weekly summary."""

from __future__ import annotations

from datetime import date

import pytest

from quality.sampling import (
    DEFAULT_FORM,
    REASON_FLAGGED,
    REASON_RANDOM,
    FormError,
    draw_sample,
    parse_form,
    total_score,
    weekly_summary,
)

DAY = date(2026, 12, 3)


def test_sample_holds_every_flagged_call_and_a_share_of_the_rest() -> None:
    calls = [(f"c{n:03d}", ["too_fast"] if n % 10 == 0 else []) for n in range(200)]
    sample = draw_sample(DAY, calls, 0.05)
    flagged = [r for r, why in sample if why == REASON_FLAGGED]
    drawn = [r for r, why in sample if why == REASON_RANDOM]
    assert flagged == [f"c{n:03d}" for n in range(0, 200, 10)]
    assert len(drawn) == 9 and not set(drawn) & set(flagged)  # ceil(5 % of 180)
    assert draw_sample(DAY, list(reversed(calls)), 0.05) == sample  # the same draw when asked again
    assert draw_sample(date(2026, 12, 4), calls, 0.05) != sample
    assert draw_sample(DAY, calls, 0) == [(r, REASON_FLAGGED) for r in flagged]
    assert len(draw_sample(DAY, calls, 1)) == 200


def test_form_from_configuration_and_weighted_total() -> None:
    form = parse_form(DEFAULT_FORM)
    assert [(i.name, i.weight) for i in form] == [("服务态度", 30), ("政策解答正确", 30),
                                                 ("语速与清晰度", 20), ("规范用语", 20)]
    assert parse_form("态度：1、答复：3") == parse_form("态度:1,答复:3")
    scores = {"服务态度": 90, "政策解答正确": 60, "语速与清晰度": 100, "规范用语": 80}
    assert total_score(form, scores) == pytest.approx((90 * 30 + 60 * 30 + 100 * 20 + 80 * 20) / 100)


@pytest.mark.parametrize(("text", "message"), [
    ("服务态度", "名称:正数权重"), ("服务态度:0", "名称:正数权重"), ("服务态度:x", "名称:正数权重"),
    ("a:1, a:2", "重复"), (" , ", "没有评分项"),
])
def test_unusable_forms_are_refused_in_chinese(text: str, message: str) -> None:
    with pytest.raises(FormError, match=message):
        parse_form(text)


def test_reviews_must_score_every_item_within_range() -> None:
    form = parse_form("态度:1, 答复:1")
    with pytest.raises(FormError, match="未打分：答复"):
        total_score(form, {"态度": 50})
    with pytest.raises(FormError, match="没有这些评分项：语速"):
        total_score(form, {"态度": 50, "答复": 50, "语速": 10})
    with pytest.raises(FormError, match="超出"):
        total_score(form, {"态度": 101, "答复": 50})


def test_weekly_summary_per_operator() -> None:
    reviews = [("07", date(2026, 11, 30), 80.0), ("07", date(2026, 12, 6), 90.0),
               ("07", date(2026, 12, 7), 70.0), ("03", date(2026, 12, 1), 60.0)]
    assert weekly_summary(reviews) == [
        {"seat_id": "03", "week": "2026-W49", "scored": 1, "mean_score": 60.0},
        {"seat_id": "07", "week": "2026-W49", "scored": 2, "mean_score": 85.0},
        {"seat_id": "07", "week": "2026-W50", "scored": 1, "mean_score": 70.0},
    ]

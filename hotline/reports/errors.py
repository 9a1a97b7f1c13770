"""Refusals of the statistics and the reports (/api/stats, /api/reports and their exports): stable
codes and statuses for API clients, Chinese messages for the person reading them.

A day the calendar has not and a start after the end are refused alike by 质检, so those two are
declared once in the base (hotline.errors) and named here.
"""

from __future__ import annotations

from hotline.errors import InvalidDate, InvalidRange, Refusal

DATE_LABELS = {"from": "开始日期", "to": "结束日期", "day": "分时查看日"}
"""The query parameters as the reports page labels them."""


class ReportsError(Refusal):
    """Base of the reports' own refusals (not raised itself)."""


class RangeTooLong(ReportsError):
    """More days than one report covers (hotline.reports.figures.MAX_RANGE_DAYS)."""

    code = "range_too_long"
    status = 422


class DayOutsideRange(ReportsError):
    """The day shown per hour must be one of the range's days."""

    code = "day_outside_range"
    status = 422


class UnknownHall(ReportsError):
    """A hall (`hall=`) that hotline.conf has no [pbx NAME] for."""

    code = "unknown_hall"
    status = 422


def invalid_date(param: str, text: str) -> InvalidDate:
    """The refusal of a `from`, `to` or `day` that names no calendar day."""
    label = DATE_LABELS.get(param, param)
    return InvalidDate(f"{label}“{text}”不是有效的日期，应写作 年-月-日（如 2026-11-02）",
                       detail={"param": param})


__all__ = ["DATE_LABELS", "DayOutsideRange", "InvalidDate", "InvalidRange", "RangeTooLong", "ReportsError",
           "UnknownHall", "invalid_date"]

"""Business hours as dialplan: the same decision as HoursConfig.is_open, made by Asterisk.

The clock is ${HOTLINE_T} (epoch seconds: ${EPOCH}, or HOTLINE_NOW forced by tests), read in
the hall's time zone with STRFTIME. Times are compared as HHMM integers (08:30 -> 830;
Asterisk's expressions parse "0829" in base 10), so no HH:MM ever reaches IF()/ExecIf(),
which split on ':'. Order of the checks mirrors is_open(): night shift (every day, holidays
included), then holidays (closed), 调休 workdays (workday_hours), then the weekday's ranges.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from hotline.config import HotlineConfig
from hotline.config.model import MINUTES_PER_DAY, TimeRange
from ivr.extensions import Context
from ivr.names import HOLIDAYS_CONTEXT, HOURS_CONTEXT, WORKDAYS_CONTEXT

CLOCK = "${HOTLINE_T}"
HM = "${HOTLINE_HM}"
ISO_WEEKDAYS = range(1, 8)

REASON_NIGHT = "night_shift"
REASON_HOLIDAY = "holiday"
REASON_WORKDAY = "workday"
REASON_WEEKLY = "weekly"


def hhmm(minute: int) -> int:
    """Minutes since midnight as the HHMM integer STRFTIME's %H%M reads as (24:00 -> 2400)."""
    return minute // 60 * 100 + minute % 60


def range_condition(time_range: TimeRange) -> str:
    """start <= now < end, as an Asterisk expression fragment over ${HOTLINE_HM}."""
    parts = []
    if time_range.start > 0:
        parts.append(f"{HM} >= {hhmm(time_range.start)}")
    if time_range.end < MINUTES_PER_DAY:
        parts.append(f"{HM} < {hhmm(time_range.end)}")
    return "(" + " & ".join(parts) + ")" if parts else "1"


def open_expression(ranges: Sequence[TimeRange]) -> str:
    """`$[...]` that is 1 inside any of the ranges and 0 outside; `0` for none."""
    if not ranges:
        return "0"
    conditions = [range_condition(r) for r in sorted(ranges)]
    if "1" in conditions:
        return "1"
    return "$[" + " | ".join(conditions) + "]"


def date_exten(day: date) -> str:
    return day.strftime("%Y%m%d")


def _decide(reason: str, expression: str) -> list[str]:
    return [f"Set(HOTLINE_OPEN={expression})",
            f"Set(HOTLINE_REASON={reason})",
            "Return()"]


def hours_contexts(config: HotlineConfig) -> list[Context]:
    hours = config.hours
    tz = config.hall.timezone
    hours_ctx = Context(HOURS_CONTEXT, comment=(
        "Gosub(hotline-hours,s,1): sets HOTLINE_OPEN (1/0) and HOTLINE_REASON from "
        "${HOTLINE_T},\nplus HOTLINE_DATE (YYYYMMDD), HOTLINE_WEEKDAY (1=Monday) and "
        "HOTLINE_HM (HHMM) in " + tz + "."))
    steps: list[str | tuple[str, str]] = [
        f"Set(HOTLINE_DATE=${{STRFTIME({CLOCK},{tz},%Y%m%d)}})",
        f"Set(HOTLINE_WEEKDAY=${{STRFTIME({CLOCK},{tz},%u)}})",
        f"Set(HOTLINE_HM=${{STRFTIME({CLOCK},{tz},%H%M)}})",
    ]
    if hours.night_shift:
        steps.append(f"GotoIf({open_expression(hours.night_shift)}?night,1)")
    steps += [
        f"GotoIf(${{DIALPLAN_EXISTS({HOLIDAYS_CONTEXT},${{HOTLINE_DATE}},1)}}?holiday,1)",
        f"GotoIf(${{DIALPLAN_EXISTS({WORKDAYS_CONTEXT},${{HOTLINE_DATE}},1)}}?workday,1)",
        "Goto(weekday-${HOTLINE_WEEKDAY},1)",
    ]
    hours_ctx.exten("s", steps)
    if hours.night_shift:
        ranges = ", ".join(str(r) for r in hours.night_shift)
        hours_ctx.exten("night", _decide(REASON_NIGHT, "1"), comment=f"night shift {ranges}")
    hours_ctx.exten("holiday", _decide(REASON_HOLIDAY, "0"))
    workday_ranges = ", ".join(str(r) for r in hours.workday_hours) or "closed"
    hours_ctx.exten("workday", _decide(REASON_WORKDAY, open_expression(hours.workday_hours)),
                    comment=f"调休 working day: {workday_ranges}")
    for weekday in ISO_WEEKDAYS:
        ranges = hours.weekly.get(weekday, ())
        label = ", ".join(str(r) for r in ranges) or "closed"
        hours_ctx.exten(f"weekday-{weekday}", _decide(REASON_WEEKLY, open_expression(ranges)),
                        comment=f"ISO weekday {weekday}: {label}")

    holidays = Context(HOLIDAYS_CONTEXT, comment="Public holidays: closed all day "
                                                 "(the night shift still answers).")
    for day in sorted(hours.holidays):
        holidays.exten(date_exten(day), [f"NoOp(holiday {day.isoformat()})"])
    workdays = Context(WORKDAYS_CONTEXT, comment="调休: weekend days worked with "
                                                 "workday_hours.")
    for day in sorted(hours.workdays):
        workdays.exten(date_exten(day), [f"NoOp(working day {day.isoformat()})"])
    return [hours_ctx, holidays, workdays]

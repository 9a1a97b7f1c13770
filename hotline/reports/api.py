"""/api/reports: the reports page's data for a range of days and one day in it, and its exports.

A thin shell over hotline.reports.store (loading) and hotline.reports.fold (arranging); the
range rules and their errors are those of /api/stats (hotline.reports.stats_api.period_of).
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.auth.deps import require_role
from hotline.auth.principal import Principal
from hotline.auth.roles import Role
from hotline.config import HotlineConfig
from hotline.db.session import SessionDep
from hotline.db.types import utcnow
from hotline.reports.errors import DayOutsideRange
from hotline.reports.figures import CallFigures, RangeReport, ReportPeriod
from hotline.reports.fold import (
    Funnel,
    Hourly,
    funnel,
    hourly,
    pause_reasons,
    reference_days,
    reference_period,
)
from hotline.reports.stats_api import (
    DATE_PATTERN,
    DATE_SCHEMA,
    REASON_ZH,
    FromQuery,
    HallQuery,
    ToQuery,
    _cell,
    _day,
    days_table,
    hall_figures,
    period_of,
    seats_of_hall,
    to_csv,
)
from hotline.reports.store import call_aggregate, load_report

router = APIRouter(prefix="/reports", tags=["reports"])
Supervisor = Annotated[Principal, Depends(require_role(Role.MONITOR))]
DayQuery = Annotated[str | None, Query(pattern=DATE_PATTERN, examples=["2026-11-27"],
                                       json_schema_extra=DATE_SCHEMA,
                                       description="the day shown per hour, within `from`..`to` "
                                                   "(default: `to`; else 422 day_outside_range)")]
Table = Literal["days", "seats", "hourly", "funnel", "halls"]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_TITLES: dict[str, str] = {"days": "每日指标", "seats": "座席", "hourly": "分时来电",
                                "funnel": "留言漏斗", "halls": "各大厅与合计"}


class HourlyOut(BaseModel):
    received: list[float]
    answered: list[float]
    abandoned: list[float]


class DayKpiOut(BaseModel):
    day: date
    received: int
    answered: int
    abandoned: int
    service_level: float | None = Field(description="answered within the threshold / received")
    average_speed_of_answer_seconds: float | None
    abandon_rate: float | None = Field(description="abandoned / received")


class SeatKpiOut(BaseModel):
    seat_id: str
    answered: int
    talk_seconds: int
    average_handling_seconds: float | None = Field(description="talk time / answered queue calls")
    pause_seconds: float
    pause_by_reason: dict[str, float]


class FunnelOut(BaseModel):
    received: int
    pending: int
    invalid: int
    invalid_by_reason: dict[str, int]
    reason_names: dict[str, str] = Field(description="Chinese name of each reason code")
    valid: int
    needs_review: int
    called_back: int = Field(description="of the messages left in the range, those whose citizen was "
                                         "called at least once")
    reached: int = Field(description="of those, the citizen was reached (resolved or transferred)")


class HallKpiOut(BaseModel):
    name: str = Field(description="the PBX's name; empty in the total row", examples=["main"])
    display_name: str = Field(examples=["城东大厅"])
    received: int = Field(examples=[4])
    answered: int = Field(examples=[3])
    abandoned: int = Field(examples=[1])
    service_level: float | None = Field(examples=[0.5])
    average_speed_of_answer_seconds: float | None = Field(examples=[13.3])
    abandon_rate: float | None = Field(examples=[0.25])


class ReportsOut(BaseModel):
    from_: date = Field(alias="from")
    to: date
    day: date
    today: date = Field(description="the hall's local day when the report was made: the page's presets "
                                    "(today, yesterday, this week, this month) count from it")
    reference_days: list[date]
    timezone: str
    service_level_seconds: int
    generated_at: datetime
    day_hourly: HourlyOut
    reference_hourly: HourlyOut = Field(description="mean of the same weekday over the last four weeks")
    days: list[DayKpiOut]
    seats: list[SeatKpiOut]
    pause_reasons: list[str] = Field(description="every pause reason of the seats, the longest paused in "
                                                 "all first: the seat table's columns")
    funnel: FunnelOut
    hall: str | None = Field(None, description="the hall shown (null: every hall together)",
                             examples=[None, "west"])
    halls: list[HallKpiOut] = Field([], description="each hall's figures over the range, then the "
                                                    "total row (name empty, 合计)")


@dataclass(frozen=True, slots=True)
class ReportView:
    report: RangeReport
    day: date
    day_hourly: Hourly
    reference_hourly: Hourly
    funnel: Funnel
    today: date
    hall: str | None = None
    halls: tuple[tuple[str, str, CallFigures], ...] = ()


def load_view(request: Request, session: Session, first: str | None, last: str | None,
              day: str | None, hall: str | None = None) -> ReportView:
    """The range report (of one hall or all), the chosen day per hour and its reference
    weekdays, the funnel, and each hall's figures with their total."""
    config: HotlineConfig = request.app.state.config
    now = utcnow()
    today = now.astimezone(config.hall.tz).date()
    period = period_of(config, first, last, today)
    shown = _day(day, "day") if day is not None else period.last
    if not period.first <= shown <= period.last:
        raise DayOutsideRange(f"分时查看日（{shown}）须在开始日期与结束日期之间"
                              f"（{period.first} 至 {period.last}）")
    threshold = config.queue.service_level_seconds
    report = load_report(session, period, threshold, now=now, seat_ids=seats_of_hall(config, hall),
                         pbx=hall)
    one_day = ReportPeriod(shown, shown, period.tz)
    reference = reference_period(shown, period)
    return ReportView(report, shown,
                      hourly(call_aggregate(session, one_day, threshold, hall).buckets, period, (shown,)),
                      hourly(call_aggregate(session, reference, threshold, hall).buckets, period,
                             reference_days(shown)),
                      funnel(report.voicemails), today, hall,
                      hall_figures(session, config, period, now))


def _hourly_out(h: Hourly) -> HourlyOut:
    return HourlyOut(received=list(h.received), answered=list(h.answered), abandoned=list(h.abandoned))


def _round(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None else None


def view_out(view: ReportView) -> ReportsOut:
    report, f = view.report, view.funnel
    return ReportsOut.model_validate({
        "hall": view.hall, "halls": [_hall_kpi(*row) for row in view.halls],
        "from": report.period.first, "to": report.period.last, "day": view.day, "today": view.today,
        "reference_days": list(reference_days(view.day)), "timezone": report.period.tz.key,
        "service_level_seconds": report.service_level_seconds, "generated_at": utcnow(),
        "day_hourly": _hourly_out(view.day_hourly), "reference_hourly": _hourly_out(view.reference_hourly),
        "days": [DayKpiOut(day=d.day, received=d.calls.received, answered=d.calls.answered,
                           abandoned=d.calls.abandoned, service_level=_round(d.calls.service_level, 4),
                           average_speed_of_answer_seconds=_round(d.calls.average_speed_of_answer, 1),
                           abandon_rate=_round(d.calls.abandon_rate, 4)) for d in report.days],
        "seats": [SeatKpiOut(seat_id=s.seat_id, answered=s.answered, talk_seconds=s.talk_seconds,
                             average_handling_seconds=_round(s.average_talk_seconds, 1),
                             pause_seconds=s.pause_seconds, pause_by_reason=s.pause_by_reason)
                  for s in report.seats],
        "pause_reasons": list(pause_reasons(report.seats)),
        "funnel": FunnelOut(received=f.received, pending=f.pending, invalid=f.invalid,
                            invalid_by_reason=f.invalid_by_reason,
                            reason_names={code: REASON_ZH.get(code, code) for code in f.invalid_by_reason},
                            valid=f.valid, needs_review=f.needs_review, called_back=f.called_back,
                            reached=f.reached),
    })


def _hall_kpi(name: str, display_name: str, f: CallFigures) -> HallKpiOut:
    return HallKpiOut(name=name, display_name=display_name, received=f.received, answered=f.answered,
                      abandoned=f.abandoned, service_level=_round(f.service_level, 4),
                      average_speed_of_answer_seconds=_round(f.average_speed_of_answer, 1),
                      abandon_rate=_round(f.abandon_rate, 4))


# ----- tables for the exports (Chinese headings) ------------------------------------------------


def hourly_table(view: ReportView) -> list[list[object]]:
    refs = "、".join(day.isoformat() for day in reference_days(view.day))
    rows: list[list[object]] = [["时段", f"{view.day.isoformat()} 来电", "接通", "放弃",
                                 f"前四周同星期平均来电（{refs}）", "平均接通", "平均放弃"]]
    d, r = view.day_hourly, view.reference_hourly
    for hour in range(len(d.received)):
        rows.append([f"{hour:02d}:00-{(hour + 1) % 24:02d}:00", d.received[hour], d.answered[hour],
                     d.abandoned[hour], r.received[hour], r.answered[hour], r.abandoned[hour]])
    return rows


def funnel_table(view: ReportView) -> list[list[object]]:
    f = view.funnel
    rows: list[list[object]] = [["环节", "条数"], ["收到留言", f.received], ["待分拣", f.pending],
                                ["无效", f.invalid]]
    rows += [[f"无效：{REASON_ZH.get(code, code)}", n] for code, n in f.invalid_by_reason.items()]
    rows += [["有效", f.valid], ["待复核", f.needs_review], ["已回拨", f.called_back],
             ["已联系上市民", f.reached]]
    return rows


def seat_table(view: ReportView) -> list[list[object]]:
    """The page's seat table: its columns, a column of pause time per reason."""
    reasons = pause_reasons(view.report.seats)
    rows: list[list[object]] = [["工号", "接听数", "通话时长(秒)", "平均处理时长(秒)", "小休时长(秒)",
                                 *(f"小休：{reason}(秒)" for reason in reasons)]]
    for s in view.report.seats:
        rows.append([s.seat_id, s.answered, s.talk_seconds, _round(s.average_talk_seconds, 1),
                     s.pause_seconds, *(s.pause_by_reason.get(reason, 0) for reason in reasons)])
    return rows


def halls_table(view: ReportView) -> list[list[object]]:
    """Each hall's figures over the range, then 合计 (the page's table with several halls)."""
    rows: list[list[object]] = [["大厅", "来电数", "接通数", "放弃数", "服务水平", "平均应答时长(秒)",
                                 "放弃率"]]
    for _name, display_name, f in view.halls:
        rows.append([display_name, f.received, f.answered, f.abandoned, _round(f.service_level, 4),
                     _round(f.average_speed_of_answer, 1), _round(f.abandon_rate, 4)])
    return rows


def several_halls(view: ReportView) -> bool:
    """The page shows the halls' table only when there are several halls (each, then 合计)."""
    return len(view.halls) > 2


def day_table(view: ReportView) -> list[list[object]]:
    """The days' figures (the /api/stats CSV's table, with its 合计 row)."""
    return days_table(view.report)


TABLES: dict[str, Callable[[ReportView], list[list[object]]]] = {
    "halls": halls_table, "days": day_table, "seats": seat_table, "hourly": hourly_table,
    "funnel": funnel_table}


def shown_tables(view: ReportView) -> dict[str, list[list[object]]]:
    """Every table the page shows, in its order, for the workbook (the halls' only with several)."""
    return {name: table(view) for name, table in TABLES.items() if name != "halls" or several_halls(view)}


RATE_HEADINGS = frozenset({"接通率", "放弃率", "服务水平"})
"""Columns holding a fraction: shown as a percentage in Excel (the value stays the fraction)."""
MAX_COLUMN_WIDTH = 60


def _width(value: object) -> int:
    """Columns Excel needs for a cell's text: a Chinese character takes two."""
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def to_xlsx(named: dict[str, list[list[object]]]) -> bytes:
    """One sheet per table, bold Chinese headings kept in view, columns as wide as their text,
    rates as percentages; cells escaped as in the CSV export."""
    book = Workbook()
    book.remove(book.active)
    for name, rows in named.items():
        sheet = book.create_sheet(SHEET_TITLES[name])
        for row in rows:
            sheet.append([_cell(value) for value in row])
        sheet.freeze_panes = "A2"
        for column in sheet.iter_cols():
            heading = column[0]
            heading.font = Font(bold=True)
            letter = get_column_letter(heading.column)
            sheet.column_dimensions[letter].width = min(MAX_COLUMN_WIDTH,
                                                        max(_width(cell.value) for cell in column) + 2)
            if heading.value in RATE_HEADINGS:
                for cell in column[1:]:
                    cell.number_format = "0.0%"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _attachment(view: ReportView, stem: str, suffix: str) -> dict[str, str]:
    period = view.report.period
    name = f"hotline-{stem}-{period.first.isoformat()}_{period.last.isoformat()}.{suffix}"
    return {"Content-Disposition": f'attachment; filename="{name}"'}


# ----- routes ----------------------------------------------------------------------------------

ROLE_TEXT = "Role: monitor or admin (supervisors). "
_HOURS = [0.0] * 9 + [3.0, 0.0, 1.0] + [0.0] * 12
REPORTS_EXAMPLE = {
    "from": "2026-11-01", "to": "2026-11-02", "day": "2026-11-02", "today": "2026-11-03",
    "reference_days": ["2026-10-26", "2026-10-19", "2026-10-12", "2026-10-05"], "timezone": "Asia/Shanghai",
    "service_level_seconds": 15, "generated_at": "2026-11-03T09:00:00Z",
    "day_hourly": {"received": _HOURS, "answered": _HOURS, "abandoned": [0.0] * 24},
    "reference_hourly": {"received": _HOURS, "answered": _HOURS, "abandoned": [0.0] * 24},
    "days": [{"day": "2026-11-02", "received": 4, "answered": 3, "abandoned": 1, "service_level": 0.5,
              "average_speed_of_answer_seconds": 13.3, "abandon_rate": 0.25}],
    "seats": [{"seat_id": "01", "answered": 3, "talk_seconds": 250, "average_handling_seconds": 83.3,
               "pause_seconds": 3600.0, "pause_by_reason": {"午休": 3600.0}}],
    "pause_reasons": ["午休"],
    "funnel": {"received": 12, "pending": 1, "invalid": 4, "invalid_by_reason": {"silence": 1, "advert": 3},
               "reason_names": {"silence": "静音", "advert": "广告推销"}, "valid": 3, "needs_review": 4,
               "called_back": 3, "reached": 2},
    "hall": None,
    "halls": [{"name": "main", "display_name": "12345政务服务便民热线", "received": 4, "answered": 3,
               "abandoned": 1, "service_level": 0.5, "average_speed_of_answer_seconds": 13.3,
               "abandon_rate": 0.25},
              {"name": "", "display_name": "合计", "received": 4, "answered": 3, "abandoned": 1,
               "service_level": 0.5, "average_speed_of_answer_seconds": 13.3, "abandon_rate": 0.25}],
}


@router.get("", response_model=ReportsOut, response_model_by_alias=True, summary="The reports page's data",
            responses={200: {"content": {"application/json": {"example": REPORTS_EXAMPLE}}}},
            description=ROLE_TEXT + "Local days `from`..`to` (as GET /stats) and `day` in them: that day's "
                        "calls per hour against the mean of the same weekday over the four weeks before, "
                        "service level, average speed of answer and abandon rate per day, per-seat figures, "
                        "the voicemail funnel.")
def reports(request: Request, session: SessionDep, _principal: Supervisor, first: FromQuery = None,
            last: ToQuery = None, day: DayQuery = None, hall: HallQuery = None) -> ReportsOut:
    return view_out(load_view(request, session, first, last, day, hall))


@router.get("/export.csv", summary="One table of the reports page as CSV", response_class=Response,
            description=ROLE_TEXT + "`table`: days, seats, hourly or funnel. UTF-8 with a byte order mark, "
                        "Chinese headings (as GET /stats/export.csv).",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def export_csv(request: Request, session: SessionDep, _principal: Supervisor, first: FromQuery = None,
               last: ToQuery = None, day: DayQuery = None,
               table: Annotated[Table, Query(description="which table")] = "days",
               hall: HallQuery = None) -> Response:
    view = load_view(request, session, first, last, day, hall)
    return Response(to_csv(TABLES[table](view)), media_type=CSV_MEDIA_TYPE,
                    headers=_attachment(view, table, "csv"))


@router.get("/export.xlsx", summary="The reports page as an Excel workbook", response_class=Response,
            description=ROLE_TEXT + "Every table of the page, one sheet each, Chinese headings.",
            responses={200: {"content": {XLSX_MEDIA_TYPE: {"schema": {"type": "string",
                                                                        "format": "binary"}}}}})
def export_xlsx(request: Request, session: SessionDep, _principal: Supervisor, first: FromQuery = None,
                last: ToQuery = None, day: DayQuery = None, hall: HallQuery = None) -> Response:
    view = load_view(request, session, first, last, day, hall)
    return Response(to_xlsx(shown_tables(view)), media_type=XLSX_MEDIA_TYPE,
                    headers=_attachment(view, "reports", "xlsx"))

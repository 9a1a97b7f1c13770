"""HTTP routes for statistics over any range of local days, as JSON or as CSV for Excel.

The report is rebuilt from the store (hotline/reports/store.py), so it covers past days and
survives restarts; it works without the AMI bridge. CSV files start with a UTF-8 byte order
mark and carry Chinese headings, so Excel on the hall's PCs opens them correctly.
"""

from __future__ import annotations

import csv
import io
import re
from contextlib import suppress
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from hotline.auth.deps import ReaderDep as Reader
from hotline.config import HotlineConfig
from hotline.db.session import SessionDep
from hotline.db.types import utcnow
from hotline.reports.errors import UnknownHall, invalid_date
from hotline.reports.figures import (
    REASON_STAFF_OVERRIDE,
    REASON_TRIAGE,
    REASON_UNSPECIFIED,
    CallAggregate,
    CallBucket,
    CallFigures,
    RangeReport,
    ReportPeriod,
    SeatRow,
    build_report,
)
from hotline.reports.store import call_aggregate, load_report
from voicemail.models import STATE_INVALID, STATE_NEEDS_REVIEW, STATE_NEW, STATE_VALID
from voicemail.triage import INVALID_REASON_ZH, REVIEW_REASON_ZH
from voicemail.triage_service import TRIAGE_FAILED

router = APIRouter(tags=["stats"])

DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATE = re.compile(DATE_PATTERN)
RATE_DIGITS = 4
SECONDS_DIGITS = 1
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
UTF8_BOM = "\ufeff"
# Excel runs a cell starting with one of these as a formula: pause reasons are typed by people.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Table = Literal["days", "seats", "voicemail_reasons"]

VERDICT_ZH = {STATE_VALID: "有效", STATE_INVALID: "无效", STATE_NEEDS_REVIEW: "待复核", STATE_NEW: "待分拣"}
REASON_ZH: dict[str, str] = {
    **{code.value: text for code, text in INVALID_REASON_ZH.items()},
    **{code.value: text for code, text in REVIEW_REASON_ZH.items()},
    TRIAGE_FAILED: "自动分拣多次失败",
    "spool": "录音文件异常（入库检查）",
    REASON_STAFF_OVERRIDE: "人工改判",
    REASON_TRIAGE: "自动分拣",
    REASON_UNSPECIFIED: "未注明",
}


# ----- JSON ------------------------------------------------------------------------------------


class CallFiguresOut(BaseModel):
    received: int = Field(description="answered + abandoned calls that reached the queue", examples=[412])
    answered: int = Field(examples=[396])
    abandoned: int = Field(examples=[16])
    answered_within_service_level: int = Field(examples=[383])
    answer_rate: float | None = Field(description="answered / received; null without calls",
                                      examples=[0.9612])
    service_level: float | None = Field(description="answered within the threshold / received",
                                        examples=[0.9296])
    average_speed_of_answer_seconds: float | None = Field(description="mean queue wait of answered calls",
                                                          examples=[6.2])
    talk_seconds: int = Field(examples=[98100])
    peak_hour: int | None = Field(description="local hour (0-23) with the most calls received",
                                  examples=[9])
    peak_hour_received: int = Field(examples=[61])


class TotalsOut(CallFiguresOut):
    received_by_hour: list[int] = Field(
        description="calls received per local hour 0..23",
        examples=[[0] * 8 + [40, 61, 55, 50, 20, 30, 48, 52, 40, 16] + [0] * 6])


class DayOut(CallFiguresOut):
    day: date = Field(examples=["2026-11-27"])
    voicemails: int = Field(examples=[14])
    voicemails_valid: int = Field(examples=[9])
    voicemails_invalid: int = Field(examples=[4])
    voicemails_needs_review: int = Field(examples=[1])
    callbacks_done: int = Field(examples=[8])
    callbacks_unreachable: int = Field(examples=[1])


class SeatStatsOut(BaseModel):
    seat_id: str = Field(examples=["07"])
    answered: int = Field(description="queue calls answered", examples=[48])
    talk_seconds: int = Field(examples=[11520])
    average_talk_seconds: float | None = Field(examples=[240.0])
    other_calls: int = Field(description="direct, callback and outgoing calls", examples=[3])
    other_talk_seconds: int = Field(examples=[420])
    pause_seconds: float = Field(examples=[3600.0])
    pause_by_reason: dict[str, float] = Field(examples=[{"午休": 3000.0, "培训": 600.0}])


class VoicemailStatsOut(BaseModel):
    total: int = Field(examples=[120])
    valid: int = Field(examples=[80])
    invalid: int = Field(examples=[30])
    needs_review: int = Field(examples=[8])
    pending: int = Field(description="not triaged yet", examples=[2])
    reasons: dict[str, dict[str, int]] = Field(
        description="verdict -> the reason that decided it -> messages",
        examples=[{"invalid": {"silence": 20, "advert": 6, "duplicate": 4},
                   "needs_review": {"little_speech": 5, "number_unclear": 3},
                   "valid": {"triage": 78, "staff_override": 2}}])


class CallbackStatsOut(BaseModel):
    closed: int = Field(examples=[60])
    done: int = Field(description="citizen reached: resolved or transferred", examples=[52])
    unreachable: int = Field(examples=[5])
    by_resolution: dict[str, int] = Field(examples=[{"resolved": 40, "transferred": 12, "wrong_number": 1,
                                                     "declined": 1, "unreachable": 5, "withdrawn": 1}])


class HallStatsOut(BaseModel):
    name: str = Field(description="the PBX's name; empty in the total row", examples=["main"])
    display_name: str = Field(examples=["城东大厅"])
    received: int = Field(examples=[412])
    answered: int = Field(examples=[396])
    abandoned: int = Field(examples=[16])
    answered_within_service_level: int = Field(examples=[370])
    answer_rate: float | None = Field(examples=[0.961])
    service_level: float | None = Field(examples=[0.898])
    average_speed_of_answer_seconds: float | None = Field(examples=[6.2])
    talk_seconds: int = Field(examples=[98100])
    peak_hour: int | None = Field(examples=[9])
    peak_hour_received: int = Field(examples=[61])


class StatsOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", examples=["2026-11-01"])
    to: date = Field(examples=["2026-11-27"])
    timezone: str = Field(examples=["Asia/Shanghai"])
    service_level_seconds: int = Field(examples=[15])
    generated_at: datetime = Field(examples=["2026-11-28T10:15:00+08:00"])
    totals: TotalsOut
    days: list[DayOut]
    seats: list[SeatStatsOut]
    voicemails: VoicemailStatsOut
    callbacks: CallbackStatsOut
    hall: str | None = Field(None, description="the hall shown (null: every hall together)",
                             examples=[None, "west"])
    halls: list[HallStatsOut] = Field([], description="each hall's calls over the range, then the total "
                                                      "row (name empty, 合计)")


def _round(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None else None


def _call_fields(c: CallFigures) -> dict[str, object]:
    return {
        "received": c.received, "answered": c.answered, "abandoned": c.abandoned,
        "answered_within_service_level": c.answered_within_sl,
        "answer_rate": _round(c.answer_rate, RATE_DIGITS),
        "service_level": _round(c.service_level, RATE_DIGITS),
        "average_speed_of_answer_seconds": _round(c.average_speed_of_answer, SECONDS_DIGITS),
        "talk_seconds": c.talk_seconds, "peak_hour": c.peak_hour, "peak_hour_received": c.peak_hour_received,
    }


def _seat_out(s: SeatRow) -> SeatStatsOut:
    return SeatStatsOut(seat_id=s.seat_id, answered=s.answered, talk_seconds=s.talk_seconds,
                        average_talk_seconds=_round(s.average_talk_seconds, SECONDS_DIGITS),
                        other_calls=s.other_calls, other_talk_seconds=s.other_talk_seconds,
                        pause_seconds=s.pause_seconds, pause_by_reason=s.pause_by_reason)


def report_out(report: RangeReport, generated_at: datetime) -> StatsOut:
    vm, cb = report.voicemails, report.callbacks
    return StatsOut(
        from_=report.period.first, to=report.period.last, timezone=report.period.tz.key,
        service_level_seconds=report.service_level_seconds, generated_at=generated_at,
        totals=TotalsOut(**_call_fields(report.totals),
                         received_by_hour=list(report.totals.received_by_hour)),
        days=[DayOut(day=d.day, **_call_fields(d.calls), voicemails=d.voicemails.total,
                     voicemails_valid=d.voicemails.count(STATE_VALID),
                     voicemails_invalid=d.voicemails.count(STATE_INVALID),
                     voicemails_needs_review=d.voicemails.count(STATE_NEEDS_REVIEW),
                     callbacks_done=d.callbacks.done, callbacks_unreachable=d.callbacks.unreachable)
              for d in report.days],
        seats=[_seat_out(s) for s in report.seats],
        voicemails=VoicemailStatsOut(total=vm.total, valid=vm.count(STATE_VALID),
                                     invalid=vm.count(STATE_INVALID),
                                     needs_review=vm.count(STATE_NEEDS_REVIEW), pending=vm.count(STATE_NEW),
                                     reasons=vm.reasons),
        callbacks=CallbackStatsOut(closed=cb.closed, done=cb.done, unreachable=cb.unreachable,
                                   by_resolution=cb.by_resolution),
    )


# ----- CSV -------------------------------------------------------------------------------------


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _hour_range(hour: int | None) -> str:
    return f"{hour:02d}:00-{(hour + 1) % 24:02d}:00" if hour is not None else ""


def _call_cells(c: CallFigures) -> list[object]:
    return [c.received, c.answered, c.abandoned, c.answered_within_sl, _round(c.answer_rate, RATE_DIGITS),
            _round(c.abandon_rate, RATE_DIGITS), _round(c.service_level, RATE_DIGITS),
            _round(c.average_speed_of_answer, SECONDS_DIGITS), c.talk_seconds, _hour_range(c.peak_hour),
            c.peak_hour_received]


def _call_headings(threshold: int) -> list[str]:
    return ["来电数", "接通数", "放弃数", f"{threshold}秒内接通数", "接通率", "放弃率", "服务水平",
            "平均应答时长(秒)", "通话时长(秒)", "高峰时段", "高峰时段来电数"]


def days_table(report: RangeReport) -> list[list[object]]:
    rows: list[list[object]] = [["日期", *_call_headings(report.service_level_seconds), "留言数", "有效留言",
                                 "无效留言", "待复核留言", "回拨完成", "回拨未接通"]]
    for d in report.days:
        vm, cb = d.voicemails, d.callbacks
        rows.append([d.day.isoformat(), *_call_cells(d.calls), vm.total, vm.count(STATE_VALID),
                     vm.count(STATE_INVALID), vm.count(STATE_NEEDS_REVIEW), cb.done, cb.unreachable])
    vm, cb = report.voicemails, report.callbacks
    rows.append(["合计", *_call_cells(report.totals), vm.total, vm.count(STATE_VALID),
                 vm.count(STATE_INVALID), vm.count(STATE_NEEDS_REVIEW), cb.done, cb.unreachable])
    return rows


def seats_table(report: RangeReport) -> list[list[object]]:
    rows: list[list[object]] = [["工号", "接听数", "通话时长(秒)", "平均通话时长(秒)", "其他通话数",
                                 "其他通话时长(秒)", "小休时长(秒)", "小休原因"]]
    for s in report.seats:
        reasons = "；".join(f"{reason} {seconds:g}秒" for reason, seconds in s.pause_by_reason.items())
        rows.append([s.seat_id, s.answered, s.talk_seconds, _round(s.average_talk_seconds, SECONDS_DIGITS),
                     s.other_calls, s.other_talk_seconds, s.pause_seconds, reasons])
    return rows


def voicemail_reasons_table(report: RangeReport) -> list[list[object]]:
    rows: list[list[object]] = [["结论", "结论代码", "原因代码", "原因", "条数"]]
    for verdict, reasons in report.voicemails.reasons.items():
        for code, count in reasons.items():
            rows.append([VERDICT_ZH.get(verdict, verdict), verdict, code, REASON_ZH.get(code, code), count])
    return rows


TABLES = {"days": days_table, "seats": seats_table, "voicemail_reasons": voicemail_reasons_table}


def to_csv(rows: list[list[object]]) -> bytes:
    """UTF-8 with a byte order mark and CRLF line ends: what Excel expects."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return (UTF8_BOM + buffer.getvalue()).encode("utf-8")


# ----- routes ----------------------------------------------------------------------------------

DATE_SCHEMA = {"format": "date"}
FromQuery = Annotated[str | None, Query(alias="from", pattern=DATE_PATTERN, examples=["2026-11-01"],
                                        json_schema_extra=DATE_SCHEMA,
                                        description="first local day, YYYY-MM-DD (default: `to`)")]
ToQuery = Annotated[str | None, Query(alias="to", pattern=DATE_PATTERN, examples=["2026-11-27"],
                                      json_schema_extra=DATE_SCHEMA,
                                      description="last local day, inclusive (default: today)")]
HallQuery = Annotated[str | None, Query(max_length=32, examples=["main"],
                                        description="one PBX's hall ([pbx NAME] in hotline.conf); default "
                                                    "every hall together (else 422 unknown_hall)")]


def _day(value: str, name: str) -> date:
    """A calendar day written YYYY-MM-DD (fromisoformat alone also takes 20261101 and weeks)."""
    day = None
    if _DATE.match(value):
        with suppress(ValueError):
            day = date.fromisoformat(value)
    if day is None:
        raise invalid_date(name, value)
    return day


def period_of(config: HotlineConfig, first: str | None, last: str | None, today: date) -> ReportPeriod:
    """The requested days; refused (422, hotline.reports.errors) when they cannot be reported."""
    last_day = _day(last, "to") if last is not None else today
    first_day = _day(first, "from") if first is not None else last_day
    return ReportPeriod(first_day, last_day, config.hall.tz)


def seats_of_hall(config: HotlineConfig, hall: str | None) -> list[str]:
    """The 工号 of one hall (or of all); 422 unknown_hall for a name hotline.conf does not have."""
    if hall is None:
        return [seat.seat_id for seat in config.seats]
    pbx = config.pbx(hall)
    if pbx is None:
        names = [p.name for p in config.pbxes]
        raise UnknownHall(f"没有名为 {hall!r} 的大厅；可选：" + "、".join(names), detail={"halls": names})
    return [seat.seat_id for seat in pbx.seats]


def hall_figures(session: Session, config: HotlineConfig, period: ReportPeriod,
                 now: datetime) -> tuple[tuple[str, str, CallFigures], ...]:
    """Each hall's call figures over the period, then all of them together ("", 合计)."""
    threshold = config.queue.service_level_seconds
    rows: list[tuple[str, str, CallFigures]] = []
    buckets: list[CallBucket] = []
    for pbx in config.pbxes:
        calls = call_aggregate(session, period, threshold, pbx.name)
        buckets += calls.buckets
        rows.append((pbx.name, pbx.display_name, build_report(period, threshold, calls, (), (), (),
                                                              now=now).totals))
    everything = CallAggregate(tuple(buckets), ())
    rows.append(("", "合计", build_report(period, threshold, everything, (), (), (), now=now).totals))
    return tuple(rows)


def halls_out(rows: tuple[tuple[str, str, CallFigures], ...]) -> list[HallStatsOut]:
    fields = {"peak_hour", "peak_hour_received", *HallStatsOut.model_fields} - {"name", "display_name"}
    return [HallStatsOut(name=name, display_name=display,
                         **{k: v for k, v in _call_fields(figures).items() if k in fields})
            for name, display, figures in rows]


def _report(request: Request, session: Session, first: str | None, last: str | None,
            hall: str | None = None) -> RangeReport:
    config: HotlineConfig = request.app.state.config
    now = utcnow()
    period = period_of(config, first, last, now.astimezone(config.hall.tz).date())
    return load_report(session, period, config.queue.service_level_seconds, now=now,
                       seat_ids=seats_of_hall(config, hall), pbx=hall)


@router.get("/stats", response_model=StatsOut, summary="Statistics over a range of days",
            description="Role: monitor, operator or admin. Local days `from`..`to` inclusive (at most 366; "
                        "default today), rebuilt from the store: totals, one row per day, one per seat, "
                        "voicemails with the reason that decided each, callbacks done and unreachable.")
def stats(request: Request, session: SessionDep, _principal: Reader, first: FromQuery = None,
          last: ToQuery = None, hall: HallQuery = None) -> StatsOut:
    report = _report(request, session, first, last, hall)
    now = utcnow()
    rows = hall_figures(session, request.app.state.config, report.period, now)
    return report_out(report, now).model_copy(update={"hall": hall, "halls": halls_out(rows)})


@router.get("/stats/export.csv", summary="Statistics as CSV for Excel", response_class=Response,
            description="Role: monitor, operator or admin. The same range as GET /stats; `table` picks "
                        "days (with a 合计 row), seats or voicemail_reasons. UTF-8 with a byte order mark, "
                        "Chinese headings.",
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
def export_csv(request: Request, session: SessionDep, _principal: Reader, first: FromQuery = None,
               last: ToQuery = None, table: Annotated[Table, Query(description="which table")] = "days",
               hall: HallQuery = None) -> Response:
    report = _report(request, session, first, last, hall)
    period = report.period
    filename = f"hotline-{table}-{period.first.isoformat()}_{period.last.isoformat()}.csv"
    return Response(to_csv(TABLES[table](report)), media_type=CSV_MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

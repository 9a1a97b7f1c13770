"""The range report: the pure fold on hand-made rows, then the same figures from the store on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hotline.db import session_scope
from hotline.reports.errors import InvalidRange, RangeTooLong
from hotline.reports.figures import (
    NO_PAUSE_REASON,
    CallbackRow,
    CallRow,
    ReportPeriod,
    StateChangeRow,
    VoicemailRow,
    aggregate_calls,
    build_report,
    fold_pauses,
)
from hotline.reports.store import call_aggregate, load_report, store_counts
from seat_manager.models import SeatStateChange
from telephony.models import CallRecord
from tests.db.conftest import database_url, postgres_database, postgres_url, sqlite_url  # noqa: F401
from voicemail.callbacks.models import Callback
from voicemail.models import Voicemail

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 2)
NEXT = DAY + timedelta(days=1)
BEFORE = DAY - timedelta(days=1)
THRESHOLD = 15
SEATS = ("01", "02", "03")


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A local instant in the hall's zone."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=TZ)


def answered(seat: str, answer_at: datetime, wait: int | None, talk: int,
             queue: str | None = "hotline") -> CallRow:
    return CallRow(outcome="answered", queue=queue, seat_id=seat, started_at=answer_at,
                   ended_at=answer_at + timedelta(seconds=talk), offered_at=answer_at - timedelta(seconds=3),
                   queue_wait_seconds=wait, talk_seconds=talk)


def abandoned(gone_at: datetime, wait: int | None) -> CallRow:
    return CallRow(outcome="abandoned", queue="hotline", seat_id=None, started_at=None, ended_at=gone_at,
                   queue_wait_seconds=wait)


# One day of calls: arrival = answer (or abandon) time minus the queue wait.
DAY_CALLS = (
    answered("01", at(DAY, 9, 10, 5), 5, 100),  # arrived 09:10:00, within 15 s
    answered("02", at(DAY, 9, 40, 20), 20, 200),  # 09:40:00, too slow
    answered("01", at(DAY, 10, 0, 10), 15, 60),  # 09:59:55, exactly 15 s counts
    abandoned(at(DAY, 11, 0, 30), 30),  # 11:00:00
    abandoned(at(DAY, 14, 0, 0), None),  # 14:00:00
    answered("01", at(DAY, 14, 30), None, 50),  # no wait recorded: answered, not in the average
    answered("02", at(DAY, 16, 0), None, 70, queue=None),  # a direct call: not received
)


def report_of(calls=(), changes=(), voicemails=(), callbacks=(), first: date = DAY, last: date = DAY,
              now: datetime | None = None, tz: ZoneInfo = TZ):
    period = ReportPeriod(first, last, tz)
    return build_report(period, THRESHOLD, aggregate_calls(calls, period, THRESHOLD), changes, voicemails,
                        callbacks, now=now or at(last + timedelta(days=30), 0), seat_ids=SEATS)


# ----- calls -----------------------------------------------------------------------------------


def test_a_day_of_calls_follows_the_live_counters_definitions() -> None:
    report = report_of(DAY_CALLS)
    t = report.totals
    assert (t.received, t.answered, t.abandoned, t.answered_within_sl) == (6, 4, 2, 2)
    assert t.answer_rate == pytest.approx(4 / 6)
    assert t.service_level == pytest.approx(2 / 6)
    assert t.average_speed_of_answer == pytest.approx((5 + 20 + 15) / 3)
    assert t.talk_seconds == 100 + 200 + 60 + 50
    assert t.received_by_hour[9] == 3 and t.received_by_hour[11] == 1 and t.received_by_hour[14] == 2
    assert sum(t.received_by_hour) == 6
    assert (t.peak_hour, t.peak_hour_received) == (9, 3)
    assert [d.day for d in report.days] == [DAY]
    assert report.days[0].calls == t


def test_seats_are_every_configured_seat_plus_any_other_seen() -> None:
    report = report_of((*DAY_CALLS, answered("44", at(DAY, 12), 3, 30)))
    seats = {s.seat_id: s for s in report.seats}
    assert list(seats) == ["01", "02", "03", "44"]
    one, two, three = seats["01"], seats["02"], seats["03"]
    assert (one.answered, one.talk_seconds, one.other_calls) == (3, 210, 0)
    assert one.average_talk_seconds == pytest.approx(70)
    assert (two.answered, two.talk_seconds, two.other_calls, two.other_talk_seconds) == (1, 200, 1, 70)
    assert (three.answered, three.talk_seconds, three.pause_seconds) == (0, 0, 0)
    assert three.average_talk_seconds is None


def test_a_call_belongs_to_the_day_it_arrived() -> None:
    late = answered("01", at(NEXT, 0, 0, 5), 15, 40)  # arrived 23:59:50 the day before
    early = abandoned(at(DAY, 0, 0, 10), 20)  # arrived 23:59:50 on BEFORE
    day = report_of([late, early])
    assert (day.totals.received, day.totals.answered, day.totals.abandoned) == (1, 1, 0)
    assert day.totals.peak_hour == 23
    assert report_of([late, early], first=NEXT, last=NEXT).totals.received == 0
    before = report_of([late, early], first=BEFORE, last=BEFORE)
    assert (before.totals.received, before.totals.abandoned) == (1, 1)


def test_days_without_calls_are_rows_of_zeros_and_ties_go_to_the_earlier_hour() -> None:
    calls = [abandoned(at(NEXT, 15, 0), 0), abandoned(at(NEXT, 8, 0), 0)]
    report = report_of(calls, first=BEFORE, last=NEXT)
    assert [d.day for d in report.days] == [BEFORE, DAY, NEXT]
    assert [d.calls.received for d in report.days] == [0, 0, 2]
    assert report.days[0].calls.peak_hour is None and report.days[0].calls.answer_rate is None
    assert report.days[0].calls.service_level is None and report.days[0].calls.average_speed_of_answer is None
    assert report.days[2].calls.peak_hour == 8


def test_local_days_follow_daylight_saving_time() -> None:
    new_york = ZoneInfo("America/New_York")
    spring = date(2026, 3, 8)  # 23 hours long
    period = ReportPeriod(spring, spring, new_york)
    assert period.end - period.start == timedelta(hours=23)
    late = CallRow("abandoned", "hotline", None, None,
                   datetime.combine(spring, time(23, 30), tzinfo=new_york))
    report = build_report(period, THRESHOLD, aggregate_calls([late], period, THRESHOLD), [], [], [],
                          now=period.end)
    assert report.totals.received_by_hour[23] == 1 and report.days[0].day == spring


def test_periods_are_checked() -> None:
    with pytest.raises(InvalidRange) as backwards:
        ReportPeriod(NEXT, DAY, TZ)
    assert backwards.value.code == "invalid_range"
    with pytest.raises(RangeTooLong) as too_long:
        ReportPeriod(DAY, DAY + timedelta(days=366), TZ)
    assert too_long.value.code == "range_too_long"
    assert ReportPeriod(DAY, DAY + timedelta(days=365), TZ).days == 366


# ----- pauses ----------------------------------------------------------------------------------

PAUSES = (
    StateChangeRow("01", "paused", at(BEFORE, 22), "培训"),  # still paused at midnight
    StateChangeRow("03", "paused", at(BEFORE, 10), "午休"),
    StateChangeRow("03", "available", at(BEFORE, 11)),
    StateChangeRow("01", "available", at(DAY, 8, 30)),
    StateChangeRow("01", "paused", at(DAY, 12), "午休"),
    StateChangeRow("01", "on_call", at(DAY, 13)),
    StateChangeRow("02", "paused", at(DAY, 23)),  # no reason, open at the end of the day
    StateChangeRow("09", "paused", at(BEFORE, 9)),
    StateChangeRow("09", "logged_out", at(BEFORE, 9, 30)),
)


def test_pause_time_per_seat_and_reason_is_clipped_to_the_period() -> None:
    seats = {s.seat_id: s for s in report_of(changes=PAUSES).seats}
    assert seats["01"].pause_by_reason == {"培训": 8.5 * 3600, "午休": 3600.0}
    assert seats["01"].pause_seconds == 9.5 * 3600
    assert seats["02"].pause_by_reason == {NO_PAUSE_REASON: 3600.0}
    assert seats["03"].pause_seconds == 0 and seats["03"].pause_by_reason == {}
    assert "09" not in seats  # paused only before the period


def test_an_open_pause_counts_up_to_now() -> None:
    paused = fold_pauses(PAUSES, ReportPeriod(DAY, DAY, TZ), now=at(DAY, 23, 30))
    assert paused["02"][NO_PAUSE_REASON] == 1800
    assert paused["01"]["午休"] == 3600


# ----- voicemails and callbacks ----------------------------------------------------------------


def vm(state: str, *codes: str, review: tuple[str, ...] = (), duplicate_of: int | None = None,
       overridden: bool = False, day: date = DAY) -> VoicemailRow:
    return VoicemailRow(state=state, left_at=at(day, 2), triage_codes=codes, review_codes=review,
                        duplicate_of=duplicate_of, overridden=overridden)


VOICEMAILS = (
    vm("invalid", "silence"),
    vm("invalid", "speech", "advert"),
    vm("invalid", "speech", "advert_or_complaint", "advert", "duplicate", duplicate_of=9),
    vm("invalid", "speech", "callback", overridden=True),
    vm("needs_review", "speech", "little_speech", "callback"),
    vm("needs_review", "triage_failed"),
    vm("needs_review", review=("spool",)),
    vm("needs_review"),
    vm("valid", "speech", "callback"),
    vm("valid", "no_callback_number", overridden=True),
    vm("new"),
    vm("invalid", "silence", day=NEXT),
)


def test_voicemails_counted_by_state_with_the_reason_that_decided_each() -> None:
    report = report_of(voicemails=VOICEMAILS)
    assert report.voicemails.by_state == {"new": 1, "needs_review": 4, "valid": 2, "invalid": 4}
    assert report.voicemails.total == 11
    assert report.voicemails.reasons == {
        "invalid": {"silence": 1, "advert": 1, "duplicate": 1, "staff_override": 1},
        "needs_review": {"little_speech": 1, "triage_failed": 1, "spool": 1, "unspecified": 1},
        "valid": {"triage": 1, "staff_override": 1},
    }
    assert report.days[0].voicemails == report.voicemails


def test_callbacks_by_the_day_they_closed() -> None:
    rows = [CallbackRow(resolution, at(DAY, 10)) for resolution in
            ("resolved", "resolved", "transferred", "unreachable", "withdrawn", "wrong_number")]
    rows.append(CallbackRow("resolved", at(NEXT, 10)))
    report = report_of(callbacks=rows, first=BEFORE, last=DAY)
    cb = report.callbacks
    assert (cb.closed, cb.done, cb.unreachable) == (6, 3, 1)
    assert cb.by_resolution["withdrawn"] == 1 and cb.by_resolution["declined"] == 0
    assert report.days[0].callbacks.closed == 0 and report.days[1].callbacks == cb


# ----- the store -------------------------------------------------------------------------------



_keys = count(1)


def add_call(session: Session, row: CallRow) -> None:
    session.add(CallRecord(call_key=f"call-{next(_keys)}", linkedid=None, outcome=row.outcome,
                           queue=row.queue, seat_id=row.seat_id, citizen_number="13812348000",
                           offered_at=row.offered_at, started_at=row.started_at, ended_at=row.ended_at,
                           queue_wait_seconds=row.queue_wait_seconds, talk_seconds=row.talk_seconds,
                           three_way=False, detail={}))


def add_change(session: Session, row: StateChangeRow) -> None:
    session.add(SeatStateChange(seat_id=row.seat_id, old_state="available", new_state=row.new_state,
                                pause_reason=row.pause_reason, at=row.at))
    session.flush()  # ids in the order given: the store picks each seat's last earlier change by id


def add_voicemail(session: Session, row: VoicemailRow, *, call_time: bool = True) -> int:
    record = Voicemail(
        recording_id=f"rec-{next(_keys)}", caller_num="13812348000", state=row.state,
        call_time=row.left_at if call_time else None,
        registered_at=row.left_at if not call_time else row.left_at + timedelta(days=3),
        triage_reasons=[{"code": c, "detail": ""} for c in row.triage_codes] or None,
        review_reasons=[{"code": c, "detail": "odd file"} for c in row.review_codes],
        duplicate_of=row.duplicate_of, override_by="zhang.wei" if row.overridden else None)
    session.add(record)
    session.flush()
    return record.id


def add_callback(session: Session, state: str, resolution: str | None, closed_at: datetime | None) -> None:
    voicemail_id = add_voicemail(session, vm("valid", day=BEFORE - timedelta(days=5)))
    session.add(Callback(voicemail_id=voicemail_id, number="13812348000", priority="normal", priority_rank=1,
                         received_at=at(BEFORE, 2), state=state, due_at=at(BEFORE, 8), attempts=1,
                         resolution=resolution, closed_at=closed_at))


STORED_CALLS = (
    *DAY_CALLS,
    answered("01", at(NEXT, 0, 0, 5), 15, 40),  # arrived on DAY
    abandoned(at(DAY, 0, 0, 10), 20),  # arrived the day before
    answered("02", at(NEXT, 9), 3, 30),
)


def fill_store(sessions: sessionmaker[Session]) -> None:
    """STORED_CALLS, PAUSES, VOICEMAILS and the callbacks of test_callbacks_by_the_day_they_closed,
    plus rows the store must leave out."""
    with session_scope(sessions) as session:
        for row in STORED_CALLS:
            add_call(session, row)
        for change in PAUSES:
            add_change(session, change)
        for message in VOICEMAILS:
            add_voicemail(session, message)
        add_voicemail(session, vm("invalid", "tones_only"), call_time=False)  # left at its registration
        for resolution in ("resolved", "resolved", "transferred", "unreachable", "withdrawn", "wrong_number"):
            add_callback(session, "closed", resolution, at(DAY, 10))
        add_callback(session, "closed", "resolved", at(NEXT, 10))
        add_callback(session, "queued", None, None)
        add_callback(session, "claimed", None, None)


def test_the_store_gives_the_same_report(sessions: sessionmaker[Session]) -> None:
    fill_store(sessions)
    with sessions() as session:
        report = load_report(session, ReportPeriod(DAY, DAY, TZ), THRESHOLD, now=at(NEXT, 12),
                             seat_ids=SEATS)
    t = report.totals
    assert (t.received, t.answered, t.abandoned, t.answered_within_sl) == (7, 5, 2, 3)
    assert t.talk_seconds == 410 + 40
    assert t.average_speed_of_answer == pytest.approx((5 + 20 + 15 + 15) / 4)
    assert (t.peak_hour, t.received_by_hour[23]) == (9, 1)
    seats = {s.seat_id: s for s in report.seats}
    assert (seats["01"].answered, seats["01"].talk_seconds) == (4, 250)
    assert (seats["02"].answered, seats["02"].other_calls) == (1, 1)
    assert seats["01"].pause_by_reason == {"培训": 8.5 * 3600, "午休": 3600.0}
    assert seats["02"].pause_by_reason == {NO_PAUSE_REASON: 3600.0}
    assert set(seats) == set(SEATS)
    vms = report.voicemails
    assert vms.by_state == {"new": 1, "needs_review": 4, "valid": 2, "invalid": 5}
    assert vms.reasons["invalid"] == {"silence": 1, "advert": 1, "duplicate": 1, "staff_override": 1,
                                      "tones_only": 1}
    assert vms.reasons["needs_review"]["spool"] == 1
    assert (report.callbacks.closed, report.callbacks.done, report.callbacks.unreachable) == (6, 3, 1)


# Edge cases for the SQL sums: fractions of seconds, negative and missing waits and talk, other
# outcomes, calls with no time, a wait across a quarter-hour and the period's edges.
ODD_CALLS = (
    answered("05", at(DAY, 10, 15, 0) + timedelta(microseconds=700_000), 1, 10),  # arrived 10:14:59.7
    answered("05", at(DAY, 10, 30, 0), -3, -5),
    answered("06", at(DAY, 23, 59, 59), 0, 0),
    answered("06", at(NEXT, 0, 0, 0), 0, 0),  # next day's first second
    CallRow("answered", "hotline", "07", None, at(DAY, 12), offered_at=at(DAY, 11, 59), queue_wait_seconds=4,
            talk_seconds=7),
    CallRow("answered", "hotline", "07", None, at(DAY, 13), queue_wait_seconds=None, talk_seconds=None),
    CallRow("answered", None, None, at(DAY, 14), at(DAY, 14, 1), talk_seconds=60),  # no seat, no queue
    CallRow("transferred", "hotline", "07", at(DAY, 15), at(DAY, 15, 5), queue_wait_seconds=2),
    abandoned(at(DAY, 16, 0, 5), 10),
    abandoned(at(BEFORE, 23, 59, 59), 0),
)


def test_the_databases_sum_calls_as_the_reference_does(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        for row in (*STORED_CALLS, *ODD_CALLS):
            add_call(session, row)
    for first, last in ((DAY, DAY), (BEFORE, NEXT), (NEXT, NEXT + timedelta(days=3))):
        period = ReportPeriod(first, last, TZ)
        with sessions() as session:
            assert call_aggregate(session, period, THRESHOLD) == \
                aggregate_calls((*STORED_CALLS, *ODD_CALLS), period, THRESHOLD)
    with sessions() as session:
        buckets = call_aggregate(session, ReportPeriod(DAY, DAY, TZ), THRESHOLD).buckets
    assert at(DAY, 10) in {b.start for b in buckets}  # 10:14:59.7 counts from 10:14:59


def test_the_store_counts_for_the_status(sessions: sessionmaker[Session]) -> None:
    fill_store(sessions)
    with sessions() as session:
        counts = store_counts(session)
    # 12 messages plus one per callback (9)
    assert counts.voicemails_by_state == {"new": 1, "needs_review": 4, "valid": 2 + 9, "invalid": 6}
    assert counts.callbacks_by_state == {"queued": 1, "claimed": 1, "closed": 7}


def test_the_ends_of_the_calendar_can_be_reported(sessions: sessionmaker[Session]) -> None:
    fill_store(sessions)
    for first, last in ((date.min, date(1, 12, 31)), (date(9999, 1, 1), date.max)):
        period = ReportPeriod(first, last, TZ)
        assert period.start < period.end
        with sessions() as session:
            report = load_report(session, period, THRESHOLD, now=at(NEXT, 12))
        assert report.totals.received == 0 and len(report.days) == 365

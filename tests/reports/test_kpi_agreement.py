"""One definition of each KPI (telephony/kpi.py): the same recorded calls, folded live by the
counters of the day and stored by the recorder then read back by the range report, give the
same received, answered, abandoned, answer rate, service level, abandon rate and average speed
of answer, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hotline.reports.figures import ReportPeriod
from hotline.reports.store import load_report
from seat_manager.directory import Seat, SeatDirectory
from seat_manager.state import SeatChange
from telephony import kpi
from telephony.live_counters import HallStats
from telephony.picture import HallPicture
from telephony.recorder import HallRecorder
from tests.ami_transcripts import Replay, find_event, load_transcript

HALL_TZ = ZoneInfo("Asia/Shanghai")
CAPTURE_START = datetime.fromtimestamp(1795813120, tz=HALL_TZ)  # 2026-11-28 04:58:40 in the hall
CAPTURES = ("04", "06", "07", "08", "02", "10")
"""An abandon, three queue calls, a voicemail after hours and a direct call to a seat."""
LEFT_FOR_VOICEMAIL = "1796299999.1"
FIGURES = ("received", "answered", "abandoned", "answer_rate", "service_level", "abandon_rate",
           "average_speed_of_answer")


def left_for_voicemail() -> list[dict[str, str]]:
    """Hand-built from 04's QueueCallerJoin: a caller who waits, then leaves the queue for
    voicemail (QueueCallerLeave, no abandon) and hangs up: received by neither count."""
    messages = load_transcript("04")
    join = {**messages[find_event(messages, "QueueCallerJoin")], "Uniqueid": LEFT_FOR_VOICEMAIL,
            "Linkedid": LEFT_FOR_VOICEMAIL}
    leave = {**join, "Event": "QueueCallerLeave", "Count": "0"}
    hangup = {**join, "Event": "Hangup", "Cause": "16", "Cause-txt": "Normal Clearing"}
    return [join, leave, hangup]


@pytest.mark.parametrize("threshold", [0, kpi.DEFAULT_SERVICE_LEVEL_SECONDS])
def test_live_counters_and_the_range_report_agree_on_the_same_calls(
        db_sessions: sessionmaker[Session], threshold: int) -> None:
    directory = SeatDirectory([Seat.standard("01", "1001"), Seat.standard("02", "1002")])
    picture = HallPicture(directory, 10)
    stats = HallStats(threshold, directory.seat_id_for_member)
    now = CAPTURE_START
    recorder = HallRecorder(db_sessions, picture.board, stats, lambda: now)

    def feed(event: Mapping[str, str], at: datetime) -> list[SeatChange]:
        stats.apply(event, at)
        changes = picture.apply(event, at)
        recorder(event, changes, at)
        return changes

    for messages in (*map(load_transcript, CAPTURES), left_for_voicemail()):
        run = Replay(messages, feed, now)
        run.rest()
        now = run.now
    asyncio.run(recorder.flush(save_stats=True))
    live = stats.today(now).hall
    with db_sessions() as session:
        day = now.date()
        report = load_report(session, ReportPeriod(day, day, HALL_TZ), threshold, now=now).totals
    assert (live.received, live.answered, live.abandoned) == (4, 3, 1)
    assert {name: getattr(report, name) for name in FIGURES} == \
        {name: getattr(live, name) for name in FIGURES}

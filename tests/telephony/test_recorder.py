"""The recorder writes the hall's history on SQLite and PostgreSQL alike, one bad row never
holding back the others (issue 13: a refused batch used to be put back and retried forever)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from seat_manager.directory import Seat as DirectorySeat
from seat_manager.directory import SeatDirectory
from seat_manager.state import SeatChange
from telephony import recorder as recorder_module
from telephony.live_counters import HallStats
from telephony.models import CallRecord
from telephony.picture import HallPicture
from telephony.recorder import HallRecorder
from tests.ami_transcripts import Replay, load_transcript

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def abandon(uniqueid: str, number: str, name: str = "王五") -> dict[str, str]:
    return {"Event": "QueueCallerAbandon", "Queue": "hotline", "Uniqueid": uniqueid,
            "Linkedid": uniqueid, "CallerIDNum": number, "CallerIDName": name, "HoldTime": "7",
            "Position": "1"}


def make_recorder(sessions: sessionmaker[Session]) -> HallRecorder:
    directory = SeatDirectory([DirectorySeat.standard("01", "8001", "hotline-seat")])
    return HallRecorder(sessions, HallPicture(directory, 10).board, HallStats(), lambda: NOW)


def stored(sessions: sessionmaker[Session]) -> dict[str, CallRecord]:
    with sessions() as session:
        return {r.call_key: r for r in session.scalars(select(CallRecord))}


def test_an_over_long_number_or_a_nul_is_stored_flagged_and_the_batch_goes_through(
        db_sessions: sessionmaker[Session]) -> None:
    recorder = make_recorder(db_sessions)
    recorder(abandon("1.1", "9" * 40), [], NOW)
    recorder(abandon("1.2", "13800138000", "李\x00四"), [], NOW)
    recorder(abandon("1.3", "13800138001"), [], NOW)
    asyncio.run(recorder.flush(save_stats=True))
    rows = stored(db_sessions)
    assert set(rows) == {"abandoned:1.1", "abandoned:1.2", "abandoned:1.3"}
    assert rows["abandoned:1.1"].citizen_number is None
    assert rows["abandoned:1.1"].detail["value_problems"] == ["市民号码长 40 个字符，超过上限 32，未保存"]
    assert rows["abandoned:1.2"].citizen_name == "李四"
    assert rows["abandoned:1.3"].citizen_number == "13800138001"
    assert "value_problems" not in rows["abandoned:1.3"].detail
    assert recorder.quarantined == [] and recorder._pending == []


def test_a_row_the_database_still_refuses_is_set_aside_not_retried_forever(
        db_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder_module, "fit_row", lambda row: [])
    recorder = make_recorder(db_sessions)
    recorder(abandon("2.1", "13800138000"), [], NOW)
    recorder(abandon("2.2", "9" * 40), [], NOW)
    recorder(abandon("2.3", "13800138001"), [], NOW)
    asyncio.run(recorder.flush(save_stats=True))
    recorder(abandon("2.4", "13800138002"), [], NOW)
    asyncio.run(recorder.flush())
    rows = stored(db_sessions)
    assert recorder._pending == []
    if db_sessions.kw["bind"].dialect.name == "postgresql":
        assert set(rows) == {"abandoned:2.1", "abandoned:2.3", "abandoned:2.4"}
        ((row, reason),) = recorder.quarantined
        assert isinstance(row, CallRecord) and row.call_key == "abandoned:2.2"
        assert reason.startswith("数据库拒收这条记录")
    else:
        assert len(rows) == 4


def test_a_call_ended_after_the_operator_paused_is_recorded(db_sessions: sessionmaker[Session]) -> None:
    """Issue 13: an answered call vanished from the records when the seat paused during it.
    Replays Asterisk's capture 08 with a hand-built pause in the middle of the call."""
    directory = SeatDirectory([DirectorySeat.standard("01", "1001")])  # recording 08's seat
    picture = HallPicture(directory, 30)
    recorder = HallRecorder(db_sessions, picture.board, HallStats(), lambda: NOW)
    start = datetime.fromtimestamp(1795813120, tz=UTC)

    def feed(event: dict[str, str], now: datetime) -> list[SeatChange]:
        changes = picture.apply(event, now)
        recorder(event, changes, now)
        return changes

    run = Replay(load_transcript("08"), feed, start)
    run.through("AgentConnect")
    pause = {"Event": "QueueMemberPause", "Queue": "hotline", "MemberName": "01",
             "Interface": "Local/01@hotline-seat", "StateInterface": "PJSIP/1001", "Status": "2",
             "Paused": "1", "PausedReason": "午休", "InCall": "1"}
    feed(pause, run.advance(1))
    run.through("AgentComplete")
    feed({**pause, "Status": "1", "InCall": "0"}, run.advance(1))
    run.rest()
    asyncio.run(recorder.flush())
    (record,) = stored(db_sessions).values()
    assert record.outcome == "answered" and record.seat_id == "01"
    assert record.citizen_number == "13812345678" and record.linkedid == "1796293628.27"
    assert record.talk_seconds is not None and record.talk_seconds > 0

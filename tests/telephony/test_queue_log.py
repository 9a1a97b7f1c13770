"""Asterisk's queue_log folded into the hall's books (pure), and booked into the store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from telephony.models import CallRecord
from telephony.queue_log import ABANDONED, ANSWERED, QueueLogFold, parse_line
from telephony.queue_log_reader import QueueLogReader

# Lines as the sandbox Asterisk 22 wrote them for a call answered by seat 01 (hotline.conf's
# dialplan adds the HOTLINEID line), then a caller who gave up waiting.
NOW = int(datetime.now(UTC).timestamp())
CAPTURE = f"""{NOW - 30}|NONE|NONE|NONE|QUEUESTART|
{NOW - 29}|MANAGER|hotline|01|ADDMEMBER|
{NOW - 25}|1796294380.1|hotline|NONE|HOTLINEID|1796294380.0
{NOW - 25}|1796294380.1|hotline|NONE|ENTERQUEUE||13700000101|1
{NOW - 24}|1796294380.1|hotline|01|CONNECT|1|1796294384.2|0
{NOW - 20}|1796294380.1|hotline|01|COMPLETECALLER|1|4|1
{NOW - 15}|1796294390.5|hotline|NONE|HOTLINEID|1796294390.4
{NOW - 15}|1796294390.5|hotline|NONE|ENTERQUEUE||13700000202|1
{NOW - 9}|1796294390.5|hotline|NONE|ABANDON|1|1|6
"""


def fold(text: str) -> list:
    machine = QueueLogFold()
    return [call for line in text.splitlines()
            if (parsed := parse_line(line)) and (call := machine.apply(parsed))]


def test_an_answered_and_an_abandoned_call_with_asterisks_times() -> None:
    answered, abandoned = fold(CAPTURE)
    assert (answered.outcome, answered.seat_id, answered.citizen_number) == (ANSWERED, "01", "13700000101")
    assert answered.call_key == "1796294380.0:01", "the live recorder's key: Linkedid and seat"
    assert answered.ended_at == datetime.fromtimestamp(NOW - 20, UTC)
    assert answered.connected_at == datetime.fromtimestamp(NOW - 24, UTC)
    assert (answered.wait_seconds, answered.talk_seconds) == (1, 4)
    assert (abandoned.outcome, abandoned.call_key, abandoned.wait_seconds) == \
        (ABANDONED, "abandoned:1796294390.5", 6)


def test_corrupt_and_partial_lines_are_skipped_not_fatal() -> None:
    noisy = "garbage\n\n99999999999999|x|y|z|CONNECT|\n" + CAPTURE.replace(
        "ENTERQUEUE||13700000101", "ENTERQUEUE||13700000101\x00")
    assert len(fold(noisy)) == 2
    assert parse_line("1796294380|1796294380.1|hotline") is None


def _rows(sessions: sessionmaker[Session]) -> list[CallRecord]:
    with sessions() as session:
        rows = list(session.scalars(select(CallRecord).order_by(CallRecord.call_key)))
        session.expunge_all()
        return rows


def test_reader_books_missing_calls_and_corrects_guessed_times(
        db_sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """The live path booked the answered call with the reconnect time as its end; the
    abandoned one it never saw (the service was down). Reading the log twice changes nothing."""
    guessed_end = datetime.fromtimestamp(NOW - 2, UTC)
    with db_sessions() as session, session.begin():
        session.add(CallRecord(call_key="1796294380.0:01", linkedid="1796294380.0",
                               outcome="answered", seat_id="01", ended_at=guessed_end,
                               started_at=datetime.fromtimestamp(NOW - 24, UTC), talk_seconds=22,
                               detail={}))
    log = tmp_path / "queue_log"
    log.write_text(CAPTURE[:CAPTURE.rindex("ABANDON")] , encoding="utf-8")  # last line half-written
    reader = QueueLogReader(log, db_sessions)
    assert len(asyncio.run(reader.pass_once())) == 1
    log.write_text(CAPTURE, encoding="utf-8")
    assert len(asyncio.run(reader.pass_once())) == 1
    answered, abandoned = _rows(db_sessions)
    assert answered.ended_at == datetime.fromtimestamp(NOW - 20, UTC)
    assert answered.talk_seconds == 4
    assert answered.detail["live_talk_seconds"] == 22
    assert (abandoned.outcome, abandoned.citizen_number) == ("abandoned", "13700000202")
    again = QueueLogReader(log, db_sessions)  # a restarted service reads the whole file again
    asyncio.run(again.pass_once())
    assert len(_rows(db_sessions)) == 2 and (again.booked, again.corrected) == (0, 0)


def test_a_caller_id_postgresql_would_refuse_is_booked_fitted(db_sessions: sessionmaker[Session],
                                                               tmp_path: Path) -> None:
    """Issue 13: the dialplan filters the caller id's characters, not its length. On PostgreSQL
    a 40-digit number (or a NUL) made every booking of that call fail, at every start: a call
    the live path never saw was lost from the books."""
    log = tmp_path / "queue_log"
    log.write_text(CAPTURE.replace("ENTERQUEUE||13700000202", "ENTERQUEUE||" + "1" * 40)
                   .replace("ENTERQUEUE||13700000101", "ENTERQUEUE||137000\x0000101"), encoding="utf-8")
    reader = QueueLogReader(log, db_sessions)
    asyncio.run(reader.pass_once())
    answered, abandoned = _rows(db_sessions)
    assert reader.booked == 2
    assert answered.citizen_number == "13700000101" and "NUL" in answered.detail["value_problems"][0]
    assert abandoned.citizen_number is None and "超过上限" in abandoned.detail["value_problems"][0]

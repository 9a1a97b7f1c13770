"""Follows Asterisk's queue_log file and books what it says (see telephony/queue_log.py).

Every few seconds the new complete lines are read, folded into finished calls, and each call is
reconciled with the store in a transaction of its own: a call the live path never saw (it ended
while the AMI link was down or the service was dead) is inserted; a call the live path booked
with guessed times (the end it saw only after reconnecting) gets Asterisk's times. One bad line
or row is logged and skipped; the others go on. At start the whole file is read again, so
nothing written while the service was down is missed; calls that ended longer ago than
LOOKBACK were reconciled by earlier runs and are left alone.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hotline.db.values import fit_row
from hotline.tasks import cancel_and_wait
from telephony.models import FIRST_PBX, OUTCOME_ABANDONED, OUTCOME_ANSWERED, CallRecord, call_key_of
from telephony.queue_log import ABANDONED, FinishedCall, QueueLogFold, parse_line

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
LOOKBACK = timedelta(days=1)
TIME_SLACK_S = 1.5  # the live path's own times are finer than the log's whole seconds: keep them
READ_LIMIT = 4 << 20  # bytes a pass reads at most; the rest comes on the next pass


class QueueLogReader:
    """A service component: `start`/`stop` with the app (see hotline.api.lifespan)."""

    name = "queue-log"

    def __init__(self, path: Path, sessions: sessionmaker[Session], *,
                 poll_seconds: float = POLL_SECONDS, pbx: str = FIRST_PBX) -> None:
        self.path = path
        self.pbx = pbx
        if pbx != FIRST_PBX:
            self.name = f"queue-log-{pbx}"
        self.sessions = sessions
        self.poll_seconds = poll_seconds
        self.fold = QueueLogFold()
        self._inode: int | None = None
        self._offset = 0
        self._task: asyncio.Task[None] | None = None
        self.booked = 0
        self.corrected = 0

    async def start(self, app: Any = None) -> None:
        del app
        self._task = asyncio.create_task(self._run(), name="queue-log-reader")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.pass_once()
            except (OSError, SQLAlchemyError):
                log.exception("could not read or book the queue_log; will retry")
            await asyncio.sleep(self.poll_seconds)

    async def pass_once(self) -> list[FinishedCall]:
        """Read what is new, fold it, book it; the calls it found."""
        finished = [call for line in await asyncio.to_thread(self._new_lines)
                    if (parsed := parse_line(line)) is not None
                    and (call := self.fold.apply(parsed)) is not None]
        cutoff = datetime.now(UTC) - LOOKBACK
        recent = [call for call in finished if call.ended_at >= cutoff]
        if recent:
            await asyncio.to_thread(self._book_all, recent)
        return finished

    def _new_lines(self) -> list[str]:
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return []
        with handle:
            status = os.fstat(handle.fileno())
            if status.st_ino != self._inode or status.st_size < self._offset:
                self._inode, self._offset, self.fold = status.st_ino, 0, QueueLogFold()
            handle.seek(self._offset)
            data = handle.read(READ_LIMIT)
        complete = data[:data.rfind(b"\n") + 1]  # a line still being written waits
        self._offset += len(complete)
        return complete.decode("utf-8", "replace").splitlines()

    def _book_all(self, calls: list[FinishedCall]) -> None:
        for call in calls:
            try:
                self._book(call)
            except SQLAlchemyError:
                log.exception("could not book queue call %s; skipped", call.call_key)

    def _book(self, call: FinishedCall) -> None:
        with self.sessions() as session, session.begin():
            key = call_key_of(self.pbx, call.call_key)
            row = session.scalar(select(CallRecord).where(CallRecord.call_key == key))
            if row is None:
                session.add(_fitted(_record(call, self.pbx)))
                self.booked += 1
            elif _differs(row, call):
                _correct(row, call)
                self.corrected += 1


def _record(call: FinishedCall, pbx: str = FIRST_PBX) -> CallRecord:
    answered = call.outcome != ABANDONED
    return CallRecord(
        call_key=call_key_of(pbx, call.call_key), pbx=pbx, linkedid=call.linkedid,
        outcome=OUTCOME_ANSWERED if answered else OUTCOME_ABANDONED, queue=call.queue,
        seat_id=call.seat_id, citizen_number=call.citizen_number, citizen_name=None,
        offered_at=call.entered_at, started_at=call.connected_at, ended_at=call.ended_at,
        queue_wait_seconds=call.wait_seconds, talk_seconds=call.talk_seconds, three_way=False,
        detail={"booked_from": "queue_log"})


def _fitted(row: CallRecord) -> CallRecord:
    """The row made storable (hotline.db.values: the caller id in the log is whatever the caller
    sent, and PostgreSQL refuses a 40-digit number or a NUL), keeping what was changed."""
    if reasons := fit_row(row):
        row.detail = {**(row.detail or {}), "value_problems": reasons}
    return row


def _far(ours: datetime | None, asterisk: datetime | None) -> bool:
    if asterisk is None:
        return False
    return ours is None or abs((ours - asterisk).total_seconds()) > TIME_SLACK_S


def _differs(row: CallRecord, call: FinishedCall) -> bool:
    talk_off = call.talk_seconds is not None and (
        row.talk_seconds is None or abs(row.talk_seconds - call.talk_seconds) > TIME_SLACK_S)
    return _far(row.ended_at, call.ended_at) or _far(row.started_at, call.connected_at) or talk_off


def _correct(row: CallRecord, call: FinishedCall) -> None:
    """Asterisk's times replace what the live path guessed; what it said before is kept."""
    row.detail = {**(row.detail or {}), "booked_from": "queue_log",
                  "live_ended_at": row.ended_at.isoformat() if row.ended_at else None,
                  "live_talk_seconds": row.talk_seconds}
    row.ended_at = call.ended_at
    if call.connected_at is not None:
        row.started_at = call.connected_at
    if call.talk_seconds is not None:
        row.talk_seconds = call.talk_seconds
    if call.wait_seconds is not None:
        row.queue_wait_seconds = call.wait_seconds


__all__ = ["QueueLogReader"]

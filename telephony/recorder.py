"""Writes the hall's history to the store without ever blocking the event path.

Seat state changes and finished calls are queued as they happen and written in batches in a
worker thread; the day's counters are saved every few seconds, so a restart of the service
loses at most that much of today's figures.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hotline.db.types import utcnow
from hotline.db.values import fit_row, scrub_json
from hotline.tasks import cancel_and_wait
from seat_manager.models import SeatStateChange
from seat_manager.state import SeatBoard, SeatCall, SeatChange, SeatState
from telephony.live_counters import HallStats
from telephony.models import OUTCOME_ABANDONED, OUTCOME_ANSWERED, CallRecord, DailyStats

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5
STATS_SAVE_SECONDS = 5.0
HANDOVER_S = 60.0
"""A node that does not hold the bridge keeps this much of what it saw, for when it takes over."""
SAME_CHANGE_S = 5.0
"""Two nodes saw one seat change when they stamped it this close together."""
Row = SeatStateChange | CallRecord


def load_today(sessions: sessionmaker[Session], day: date) -> dict[str, Any] | None:
    with sessions() as session:
        row = session.get(DailyStats, day)
        return dict(row.payload) if row is not None else None


class HallRecorder:
    def __init__(self, sessions: sessionmaker[Session], board: SeatBoard, stats: HallStats,
                 clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.board = board
        self.stats = stats
        self.clock = clock
        self._pending: list[Row] = []
        self._stats_dirty = False
        self._task: asyncio.Task[None] | None = None
        self.rows_written = 0
        # Rows the database refused even after fitting: kept here (and logged), never retried,
        # so one bad row cannot hold back every record behind it.
        self.quarantined: list[tuple[Row, str]] = []
        # Several nodes: only the holder of the bridge lease writes (see hotline.cluster).
        self.holding = True

    # Listener ---------------------------------------------------------------------------
    def __call__(self, event: Mapping[str, str] | None, changes: list[SeatChange],
                 now: datetime) -> None:
        for change in changes:
            view = self.board.seat(change.seat_id)
            self._pending.append(SeatStateChange(
                seat_id=change.seat_id, old_state=change.old.value, new_state=change.new.value,
                pause_reason=view.pause_reason if view is not None and view.paused else None,
                at=change.at))
            if change.old is SeatState.ON_CALL and change.ended_call is not None:
                # The finished call rides on the change: a seat paused or logged out after it
                # has no current call any more.
                self._pending.append(self._answered(change, change.ended_call, now))
        if event is not None:
            self._stats_dirty = True
            if event.get("Event") == "QueueCallerAbandon":
                self._pending.append(self._abandoned(event, now))
        if not self.holding:
            self._forget_before(now - timedelta(seconds=HANDOVER_S))

    def _forget_before(self, cutoff: datetime) -> None:
        """Not holding the bridge: keep only the recent rows, the ones a takeover may need."""
        first_recent = next((i for i, row in enumerate(self._pending)
                             if (stamp := row.at if isinstance(row, SeatStateChange) else row.ended_at)
                             is None or stamp >= cutoff), len(self._pending))
        del self._pending[:first_recent]

    @staticmethod
    def _answered(change: SeatChange, call: SeatCall, now: datetime) -> CallRecord:
        ended = call.ended_at or now
        talk = int((ended - call.started_at).total_seconds()) if call.started_at else None
        return CallRecord(
            call_key=f"{call.linkedid or call.seat_channel}:{change.seat_id}",
            linkedid=call.linkedid, outcome=OUTCOME_ANSWERED, queue=call.queue, seat_id=change.seat_id,
            citizen_number=call.citizen_number, citizen_name=call.citizen_name,
            offered_at=call.offered_at, started_at=call.started_at, ended_at=ended,
            queue_wait_seconds=call.queue_wait_seconds, talk_seconds=talk, three_way=call.three_way,
            detail={})

    @staticmethod
    def _abandoned(event: Mapping[str, str], now: datetime) -> CallRecord:
        hold = event.get("HoldTime")
        return CallRecord(
            call_key=f"abandoned:{event.get('Uniqueid')}", linkedid=event.get("Linkedid"),
            outcome=OUTCOME_ABANDONED, queue=event.get("Queue"), seat_id=None,
            citizen_number=event.get("CallerIDNum"), citizen_name=event.get("CallerIDName"),
            ended_at=now, queue_wait_seconds=int(hold) if hold and hold.isdigit() else None,
            three_way=False, detail={"position": event.get("Position")})

    # Writer -----------------------------------------------------------------------------
    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="hall-recorder")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        await self.flush(save_stats=True)

    async def take_over(self) -> None:
        """This node now holds the bridge: write what it saw while the last holder may have been
        gone (a seat change the last holder stored already is not stored twice), then run."""
        self.holding = True
        rows, self._pending = self._pending, []
        try:
            await asyncio.to_thread(self._write_replayed, rows)
        except SQLAlchemyError:
            log.exception("hall history of the handover not written; kept for the next flush")
            self._pending = rows + self._pending
        self._stats_dirty = True
        await self.start()

    async def hand_over(self) -> None:
        """This node lost the bridge: stop writing at once, keep what was not written."""
        self.holding = False
        await cancel_and_wait(self._task)
        self._task = None

    def _write_replayed(self, rows: list[Row]) -> None:
        with self.sessions() as session, session.begin():
            for row in rows:
                if isinstance(row, SeatStateChange) and self._stored_already(session, row):
                    continue
                self._add(session, row)
        self.rows_written += len(rows)

    @staticmethod
    def _stored_already(session: Session, row: SeatStateChange) -> bool:
        near = timedelta(seconds=SAME_CHANGE_S)
        return session.scalar(select(SeatStateChange.id).where(
            SeatStateChange.seat_id == row.seat_id, SeatStateChange.old_state == row.old_state,
            SeatStateChange.new_state == row.new_state, SeatStateChange.at >= row.at - near,
            SeatStateChange.at <= row.at + near).limit(1)) is not None

    async def _run(self) -> None:
        since_stats = 0.0
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            since_stats += FLUSH_SECONDS
            save = since_stats >= STATS_SAVE_SECONDS and self._stats_dirty
            if save:
                since_stats = 0.0
            try:
                await self.flush(save_stats=save)
            except SQLAlchemyError:
                log.exception("could not write the hall's history; will retry")

    async def flush(self, *, save_stats: bool = False) -> None:
        rows, self._pending = self._pending, []
        payload = None
        if save_stats:
            self._stats_dirty = False
            now = self.clock()
            payload = (self.stats.today(now).day or now.date(), self.stats.to_dict())
        if not rows and payload is None:
            return
        try:
            await asyncio.to_thread(self._write, rows, payload)
        except OperationalError:
            # The database is away: everything waits for the next flush.
            self._pending = rows + self._pending
            raise
        except DBAPIError:
            # Something in the batch was refused: write row by row, set the refused ones aside.
            await asyncio.to_thread(self._write_one_by_one, rows, payload)

    def _write(self, rows: list[Row], payload: tuple[date, dict[str, Any]] | None) -> None:
        with self.sessions() as session, session.begin():
            for row in rows:
                self._add(session, row)
            if payload is not None:
                self._save_stats(session, payload)
        self.rows_written += len(rows)

    def _write_one_by_one(self, rows: list[Row], payload: tuple[date, dict[str, Any]] | None) -> None:
        for row in rows:
            try:
                self._write([row], None)
            except OperationalError:
                raise
            except DBAPIError as exc:
                reason = f"数据库拒收这条记录：{type(exc.orig or exc).__name__}"
                log.error("hall history: %s set aside (%s)", type(row).__name__, reason)
                self.quarantined.append((row, reason))
        if payload is not None:
            self._write([], payload)

    @staticmethod
    def _add(session: Session, row: Row) -> None:
        """Add a row made storable first (one home for the rules); a call keeps what was changed."""
        reasons = fit_row(row)
        if isinstance(row, CallRecord):
            if reasons:
                row.detail = {**(row.detail or {}), "value_problems": reasons}
            if session.scalar(select(CallRecord.id).where(CallRecord.call_key == row.call_key)):
                return
        elif reasons:
            log.warning("seat %s state change stored with changes: %s", row.seat_id, "；".join(reasons))
        session.add(row)

    @staticmethod
    def _save_stats(session: Session, payload: tuple[date, dict[str, Any]]) -> None:
        day, data = payload
        data, _ = scrub_json(data)
        existing = session.get(DailyStats, day)
        if existing is None:
            session.add(DailyStats(day=day, payload=data, updated_at=utcnow()))
        else:
            existing.payload = data
            existing.updated_at = utcnow()


__all__ = ["HallRecorder", "IntegrityError", "load_today"]

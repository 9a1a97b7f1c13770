"""A session's row: upserted on every change, so a crash loses at most the last step, and read
back after a restart to pick up the calls still in progress (with each party's channel)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from telephony.threeway.models import REASON_MAX, ThreeWayRecord
from telephony.threeway.session import (
    FINAL_STATES,
    Party,
    PartyState,
    Role,
    SessionState,
    ThreeWaySession,
)

log = logging.getLogger(__name__)

ACTIVE_STATES = [state.value for state in SessionState if state not in FINAL_STATES]


def party_dict(party: Party) -> dict[str, Any]:
    def iso(moment: Any) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {"role": party.role.value, "name": party.name, "state": party.state.value,
            "target": party.target, "reason": party.reason, "dialled_at": iso(party.dialled_at),
            "joined_at": iso(party.joined_at), "left_at": iso(party.left_at),
            "channel": party.channel, "uniqueid": party.uniqueid}


def party_from_dict(data: dict[str, Any]) -> Party:
    def moment(key: str) -> datetime | None:
        value = data.get(key)
        return datetime.fromisoformat(value) if value else None

    return Party(role=Role(data["role"]), name=data["name"], state=PartyState(data["state"]),
                 channel=data.get("channel"), uniqueid=data.get("uniqueid"), target=data.get("target"),
                 reason=data.get("reason"), dialled_at=moment("dialled_at"),
                 joined_at=moment("joined_at"), left_at=moment("left_at"))


def load_active(sessions: sessionmaker[Session], ring_seconds: int,
                now: datetime) -> list[ThreeWaySession]:
    """The sessions stored as still in progress, as they were last saved."""
    with sessions() as db:
        rows = db.scalars(select(ThreeWayRecord).where(ThreeWayRecord.state.in_(ACTIVE_STATES))).all()
        loaded = []
        for row in rows:
            try:
                loaded.append(_session_of(row, ring_seconds, now))
            except (KeyError, TypeError, ValueError, StopIteration) as error:
                log.warning("three-way %s: stored row unreadable, not resumed: %r", row.session_id, error)
        return loaded


def _session_of(row: ThreeWayRecord, ring_seconds: int, now: datetime) -> ThreeWaySession:
    parties = [party_from_dict(data) for data in row.participants]
    citizen = next(p for p in parties if p.role is Role.CITIZEN)
    operator = next(p for p in parties if p.role is Role.OPERATOR)
    return ThreeWaySession(
        session_id=row.session_id, room=row.session_id, seat_id=row.seat_id, linkedid=row.linkedid,
        department=row.department, citizen=citizen, operator=operator,
        experts=[p for p in parties if p.role is Role.EXPERT], ring_seconds=ring_seconds,
        started_at=row.started_at, state=SessionState(row.state), state_since=now,
        answered_at=row.answered_at, ended_at=row.ended_at, reason=row.reason,
        requested_by=row.requested_by)


def save_session(sessions: sessionmaker[Session], session: ThreeWaySession) -> None:
    with sessions() as db:
        row = db.scalar(select(ThreeWayRecord).where(ThreeWayRecord.session_id == session.session_id))
        if row is None:
            row = ThreeWayRecord(session_id=session.session_id)
            db.add(row)
        row.linkedid = session.linkedid
        row.seat_id = session.seat_id
        row.department = session.department
        row.state = session.state.value
        row.reason = (session.reason or "")[:REASON_MAX] or None
        row.requested_by = session.requested_by
        row.started_at = session.started_at
        row.answered_at = session.answered_at
        row.ended_at = session.ended_at
        row.participants = [party_dict(p) for p in session.parties]
        db.commit()

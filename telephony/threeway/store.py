"""Write a session to its row: upserted on every change, so a crash loses at most the last step."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from telephony.threeway.models import REASON_MAX, ThreeWayRecord
from telephony.threeway.session import Party, ThreeWaySession


def party_dict(party: Party) -> dict[str, Any]:
    def iso(moment: Any) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {"role": party.role.value, "name": party.name, "state": party.state.value,
            "target": party.target, "reason": party.reason, "dialled_at": iso(party.dialled_at),
            "joined_at": iso(party.joined_at), "left_at": iso(party.left_at)}


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

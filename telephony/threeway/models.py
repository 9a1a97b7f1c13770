"""The stored three-way session, kept beside the call record (joined on Linkedid)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base
from hotline.db.types import JSONDocument, UTCDateTime

ID_MAX = 80
SEAT_ID_MAX = 8
NAME_MAX = 200
STATE_MAX = 16
REASON_MAX = 500


class ThreeWayRecord(Base):
    """One three-way session: who was tried and who talked, with their times."""

    __tablename__ = "threeway_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(String(ID_MAX), unique=True)
    linkedid: Mapped[str | None] = mapped_column(String(ID_MAX))
    seat_id: Mapped[str] = mapped_column(String(SEAT_ID_MAX))
    department: Mapped[str | None] = mapped_column(String(NAME_MAX))
    state: Mapped[str] = mapped_column(String(STATE_MAX))
    reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    requested_by: Mapped[str] = mapped_column(String(NAME_MAX))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    participants: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)

    __table_args__ = (Index("ix_threeway_sessions_linkedid", "linkedid"),)

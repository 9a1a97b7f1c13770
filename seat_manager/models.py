"""Stored seat history: every state change, so a day's pause and talk time survive a restart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base
from hotline.db.types import UTCDateTime

SEAT_ID_MAX = 8
STATE_MAX = 16
REASON_MAX = 120


class SeatStateChange(Base):
    __tablename__ = "seat_state_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seat_id: Mapped[str] = mapped_column(String(SEAT_ID_MAX))
    old_state: Mapped[str] = mapped_column(String(STATE_MAX))
    new_state: Mapped[str] = mapped_column(String(STATE_MAX))
    pause_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_seat_state_changes_seat_id_at", "seat_id", "at"),)

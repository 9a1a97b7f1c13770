"""One callback per valid voicemail, and one attempt row per call outcome (the whole history)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base
from hotline.db.types import JSONDocument, UTCDateTime, utcnow

PHONE_MAX = 32
NAME_MAX = 200
STATE_MAX = 16
OUTCOME_MAX = 32
ACTOR_MAX = 64
SEAT_MAX = 8
EXCERPT_MAX = 500
ACTION_ID_MAX = 80


class Callback(Base):
    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # One callback per message: enqueue is idempotent on it.
    voicemail_id: Mapped[int] = mapped_column(ForeignKey("voicemails.id"), unique=True)
    number: Mapped[str] = mapped_column(String(PHONE_MAX))
    priority: Mapped[str] = mapped_column(String(STATE_MAX))
    # 0 = urgent, 1 = normal: the queue orders on it, then on received_at.
    priority_rank: Mapped[int] = mapped_column(Integer)
    department: Mapped[str | None] = mapped_column(String(NAME_MAX))
    transcript_excerpt: Mapped[str | None] = mapped_column(Text)
    reasons: Mapped[list[Any]] = mapped_column(JSONDocument, default=list)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(STATE_MAX))
    # Not claimable before this instant (a retry after no answer / busy).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(ACTOR_MAX))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The current claim's dial, copied into the attempt row when the outcome is recorded.
    dialed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dialed_seat: Mapped[str | None] = mapped_column(String(SEAT_MAX))
    dial_action_id: Mapped[str | None] = mapped_column(String(ACTION_ID_MAX))
    resolution: Mapped[str | None] = mapped_column(String(OUTCOME_MAX))
    transferred_to: Mapped[str | None] = mapped_column(String(NAME_MAX))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_callbacks_queue", "state", "priority_rank", "received_at", "id"),
        Index("ix_callbacks_claim_expires_at", "claim_expires_at"),
    )


class CallbackAttempt(Base):
    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    staff: Mapped[str] = mapped_column(String(ACTOR_MAX))
    seat_id: Mapped[str | None] = mapped_column(String(SEAT_MAX))
    outcome: Mapped[str] = mapped_column(String(OUTCOME_MAX))
    department: Mapped[str | None] = mapped_column(String(NAME_MAX))
    note: Mapped[str | None] = mapped_column(Text)
    dialed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

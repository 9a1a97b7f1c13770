"""One row per message of the written channels, with its automatic audit and the manager's decision."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base
from hotline.db.types import JSONDocument, UTCDateTime, utcnow

CHANNELS = ("网上民声", "市长信箱")
STATE_UNAUDITED = "unaudited"
STATE_APPROVED = "approved"  # 审核通过
STATE_TRANSFERRED = "transferred"  # 转办
STATE_RETURNED = "returned"  # 退回
STATES = (STATE_UNAUDITED, STATE_APPROVED, STATE_TRANSFERRED, STATE_RETURNED)
CHANNEL_MAX = 16
AUTHOR_MAX = 100
CONTACT_MAX = 40
NAME_MAX = 200
KEY_MAX = 100
STATE_MAX = 16
ACTOR_MAX = 64
TEXT_MAX = 10000
REASON_MAX = 2000


class WrittenMessage(Base):
    __tablename__ = "written_messages"
    __table_args__ = (
        Index("ix_written_messages_queue", "state", "written_at", "id"),
        Index("ix_written_messages_author", "author_key", "written_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(CHANNEL_MAX))
    author: Mapped[str] = mapped_column(String(AUTHOR_MAX))
    contact: Mapped[str] = mapped_column(String(CONTACT_MAX))
    # The contact's digits when valid, else the author's name: who "the same author" is.
    author_key: Mapped[str] = mapped_column(String(AUTHOR_MAX))
    text: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_with: Mapped[str | None] = mapped_column(String(NAME_MAX))
    source: Mapped[str] = mapped_column(String(STATE_MAX))  # api, csv, xlsx
    # The website's idempotency key and a digest of what it sent with it.
    idempotency_key: Mapped[str | None] = mapped_column(String(KEY_MAX), unique=True)
    payload_digest: Mapped[str | None] = mapped_column(String(64))
    audit: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    state: Mapped[str] = mapped_column(String(STATE_MAX), default=STATE_UNAUDITED)
    department: Mapped[str | None] = mapped_column(String(NAME_MAX))
    section: Mapped[str | None] = mapped_column(String(NAME_MAX))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(ACTOR_MAX))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""The audit trail: who did what to which thing, for every capability.

`record_audit` only adds the row to the caller's session, so the entry is committed in the same
transaction as the change it describes, or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from hotline.db.base import Base
from hotline.db.types import JSONDocument, UTCDateTime, utcnow

ACTOR_MAX = 64
ROLE_MAX = 16
ACTION_MAX = 64
TARGET_MAX = 200
SYSTEM_ACTOR = "system"


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_action", "action"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(ACTOR_MAX))
    role: Mapped[str | None] = mapped_column(String(ROLE_MAX))
    action: Mapped[str] = mapped_column(String(ACTION_MAX))
    target: Mapped[str | None] = mapped_column(String(TARGET_MAX))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)


def record_audit(session: Session, action: str, *, actor: str = SYSTEM_ACTOR,
                 role: str | None = None, target: str | None = None,
                 detail: dict[str, Any] | None = None) -> AuditEntry:
    """Add an audit entry to the caller's transaction; `actor` is a token name, never a token."""
    entry = AuditEntry(at=utcnow(), actor=actor[:ACTOR_MAX], role=role, action=action,
                       target=target[:TARGET_MAX] if target else None, detail=detail)
    session.add(entry)
    return entry

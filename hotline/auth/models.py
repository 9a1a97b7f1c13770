"""API tokens: only a hash is stored; the token itself is shown once, when created."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.auth.roles import ROLE_NAMES
from hotline.db.base import Base
from hotline.db.types import UTCDateTime, utcnow

TOKEN_NAME_MAX = 64
ROLE_MAX = 16
TOKEN_HASH_LENGTH = 64  # sha256, hex
SEAT_MAX = 16
ACTIVE_NAME_INDEX = "uq_api_tokens_active_name"
ROLE_CHECK = "role IN (" + ", ".join(f"'{name}'" for name in ROLE_NAMES) + ")"
ACTIVE = text("revoked_at IS NULL")


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (
        CheckConstraint(ROLE_CHECK, name="role"),
        # A name identifies one live token (logs and audit show names); a revoked token's name
        # may be reused by its replacement.
        Index(ACTIVE_NAME_INDEX, "name", unique=True, sqlite_where=ACTIVE,
              postgresql_where=ACTIVE),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(TOKEN_NAME_MAX))
    role: Mapped[str] = mapped_column(String(ROLE_MAX))
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who an operator token acts for: its one seat (工号), or every seat when it is a declared
    # team lead; neither: no seat at all (hotline/auth/seats.py holds the rule).
    seat: Mapped[str | None] = mapped_column(String(SEAT_MAX))
    team_lead: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @property
    def active(self) -> bool:
        return self.revoked_at is None

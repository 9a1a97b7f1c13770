"""Three-way sessions stored beside the call records.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "threeway_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(80), nullable=False),
        sa.Column("linkedid", sa.String(80), nullable=True),
        sa.Column("seat_id", sa.String(8), nullable=False),
        sa.Column("department", sa.String(200), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("participants", JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threeway_sessions")),
        sa.UniqueConstraint("session_id", name=op.f("uq_threeway_sessions_session_id")),
    )
    op.create_index("ix_threeway_sessions_linkedid", "threeway_sessions", ["linkedid"])


def downgrade() -> None:
    op.drop_index("ix_threeway_sessions_linkedid", table_name="threeway_sessions")
    op.drop_table("threeway_sessions")

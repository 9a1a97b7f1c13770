"""The written channels (网上民声, 市长信箱): messages, their audit and the manager's decision.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "written_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("contact", sa.String(40), nullable=False),
        sa.Column("author_key", sa.String(100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_with", sa.String(200), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(100), nullable=True),
        sa.Column("payload_digest", sa.String(64), nullable=True),
        sa.Column("audit", JSON_DOC, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("department", sa.String(200), nullable=True),
        sa.Column("section", sa.String(200), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_written_messages")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_written_messages_idempotency_key")),
    )
    op.create_index("ix_written_messages_queue", "written_messages", ["state", "written_at", "id"])
    op.create_index("ix_written_messages_author", "written_messages", ["author_key", "written_at"])


def downgrade() -> None:
    op.drop_index("ix_written_messages_author", table_name="written_messages")
    op.drop_index("ix_written_messages_queue", table_name="written_messages")
    op.drop_table("written_messages")

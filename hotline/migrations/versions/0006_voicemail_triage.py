"""Triage results and staff overrides stored on each voicemail.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TABLE = "voicemails"
CALLER_INDEX = "ix_voicemails_caller_num_call_time"


def _columns() -> tuple[sa.Column, ...]:
    """Fresh Column objects each time (a Column belongs to one table once added)."""
    return (
        sa.Column("transcript", sa.Text(), nullable=True),
        sa.Column("transcript_words", JSON_DOC, nullable=True),
        sa.Column("features", JSON_DOC, nullable=True),
        sa.Column("triage_reasons", JSON_DOC, nullable=True),
        sa.Column("explanation_zh", sa.Text(), nullable=True),
        sa.Column("department", sa.String(200), nullable=True),
        sa.Column("priority", sa.String(16), nullable=True),
        sa.Column("callback_number", sa.String(32), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("triaged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("triage_attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("override_by", sa.String(200), nullable=True),
        sa.Column("override_reason", sa.String(500), nullable=True),
        sa.Column("override_at", sa.DateTime(timezone=True), nullable=True),
    )


def upgrade() -> None:
    # batch mode: SQLite cannot drop columns in place, and downgrade must work there too.
    with op.batch_alter_table(TABLE) as batch:
        for column in _columns():
            batch.add_column(column)
    op.create_index(CALLER_INDEX, TABLE, ["caller_num", "call_time"])


def downgrade() -> None:
    op.drop_index(CALLER_INDEX, table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        for column in reversed(_columns()):
            batch.drop_column(column.name)

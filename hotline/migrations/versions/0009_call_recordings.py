"""质检: the register of two-track call recordings and their automatic measures.

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TABLE = "call_recordings"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("recording_id", sa.String(100), nullable=False, unique=True),
        sa.Column("linkedid", sa.String(80), nullable=True),
        sa.Column("seat_id", sa.String(8), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("operator_file", sa.String(200), nullable=True),
        sa.Column("citizen_file", sa.String(200), nullable=True),
        sa.Column("operator_sha256", sa.String(64), nullable=True),
        sa.Column("citizen_sha256", sa.String(64), nullable=True),
        sa.Column("problems", JSON_DOC, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("measures", JSON_DOC, nullable=True),
        sa.Column("flags", JSON_DOC, nullable=True),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_call_recordings_linkedid", TABLE, ["linkedid"])
    op.create_index("ix_call_recordings_started_at", TABLE, ["started_at"])
    op.create_index("ix_call_recordings_seat_started", TABLE, ["seat_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_call_recordings_seat_started", table_name=TABLE)
    op.drop_index("ix_call_recordings_started_at", table_name=TABLE)
    op.drop_index("ix_call_recordings_linkedid", table_name=TABLE)
    op.drop_table(TABLE)

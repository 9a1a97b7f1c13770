"""Seat state history, call records and daily counters.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "seat_state_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seat_id", sa.String(8), nullable=False),
        sa.Column("old_state", sa.String(16), nullable=False),
        sa.Column("new_state", sa.String(16), nullable=False),
        sa.Column("pause_reason", sa.String(120), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seat_state_changes")),
    )
    op.create_index("ix_seat_state_changes_seat_id_at", "seat_state_changes", ["seat_id", "at"])
    op.create_table(
        "call_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_key", sa.String(80), nullable=False),
        sa.Column("linkedid", sa.String(80), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("queue", sa.String(64), nullable=True),
        sa.Column("seat_id", sa.String(8), nullable=True),
        sa.Column("citizen_number", sa.String(32), nullable=True),
        sa.Column("citizen_name", sa.String(200), nullable=True),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("queue_wait_seconds", sa.Integer(), nullable=True),
        sa.Column("talk_seconds", sa.Integer(), nullable=True),
        sa.Column("three_way", sa.Boolean(), nullable=False),
        sa.Column("detail", JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_records")),
        sa.UniqueConstraint("call_key", name=op.f("uq_call_records_call_key")),
    )
    op.create_index("ix_call_records_ended_at", "call_records", ["ended_at"])
    op.create_table(
        "daily_stats",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("payload", JSON_DOC, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_daily_stats")),
    )


def downgrade() -> None:
    op.drop_table("daily_stats")
    op.drop_index("ix_call_records_ended_at", table_name="call_records")
    op.drop_table("call_records")
    op.drop_index("ix_seat_state_changes_seat_id_at", table_name="seat_state_changes")
    op.drop_table("seat_state_changes")

"""The morning callback queue: callbacks and their attempts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("voicemail_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("priority_rank", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(200), nullable=True),
        sa.Column("transcript_excerpt", sa.Text(), nullable=True),
        sa.Column("reasons", JSON_DOC, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dialed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dialed_seat", sa.String(8), nullable=True),
        sa.Column("dial_action_id", sa.String(80), nullable=True),
        sa.Column("resolution", sa.String(32), nullable=True),
        sa.Column("transferred_to", sa.String(200), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["voicemail_id"], ["voicemails.id"],
                                name=op.f("fk_callbacks_voicemail_id_voicemails")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
        sa.UniqueConstraint("voicemail_id", name=op.f("uq_callbacks_voicemail_id")),
    )
    op.create_index("ix_callbacks_queue", "callbacks",
                    ["state", "priority_rank", "received_at", "id"])
    op.create_index("ix_callbacks_claim_expires_at", "callbacks", ["claim_expires_at"])
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callback_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("staff", sa.String(64), nullable=False),
        sa.Column("seat_id", sa.String(8), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("department", sa.String(200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("dialed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["callback_id"], ["callbacks.id"],
                                name=op.f("fk_callback_attempts_callback_id_callbacks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_attempts")),
    )
    op.create_index("ix_callback_attempts_callback_id", "callback_attempts", ["callback_id"])


def downgrade() -> None:
    op.drop_index("ix_callback_attempts_callback_id", table_name="callback_attempts")
    op.drop_table("callback_attempts")
    op.drop_index("ix_callbacks_claim_expires_at", table_name="callbacks")
    op.drop_index("ix_callbacks_queue", table_name="callbacks")
    op.drop_table("callbacks")

"""The voicemail register.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "voicemails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.String(80), nullable=False),
        sa.Column("uniqueid", sa.String(80), nullable=True),
        sa.Column("linkedid", sa.String(80), nullable=True),
        sa.Column("route", sa.String(16), nullable=True),
        sa.Column("caller_num", sa.String(32), nullable=True),
        sa.Column("caller_withheld", sa.Boolean(), nullable=False),
        sa.Column("caller_name", sa.String(200), nullable=True),
        sa.Column("call_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("audio_sha256", sa.String(64), nullable=True),
        sa.Column("archive_name", sa.String(200), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("review_reasons", JSON_DOC, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voicemails")),
        sa.UniqueConstraint("recording_id", name=op.f("uq_voicemails_recording_id")),
    )
    op.create_index("ix_voicemails_state_call_time", "voicemails", ["state", "call_time"])
    op.create_index("ix_voicemails_audio_sha256", "voicemails", ["audio_sha256"])


def downgrade() -> None:
    op.drop_index("ix_voicemails_audio_sha256", table_name="voicemails")
    op.drop_index("ix_voicemails_state_call_time", table_name="voicemails")
    op.drop_table("voicemails")

"""质检: the register of two-track call recordings and their automatic measures, the inspectors'
reviews, and the inspector role.

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
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TABLE = "call_recordings"
REVIEWS = "qa_reviews"
TOKENS = "api_tokens"
ROLES_BEFORE = ("admin", "operator", "monitor")
ROLES_AFTER = (*ROLES_BEFORE, "inspector")


def _role_check(roles: tuple[str, ...]) -> None:
    """Replace the api_tokens role CHECK (SQLite: the batch rebuilds the table). The name is what
    0001's name="ck_api_tokens_role" became under the naming convention, kept as it is."""
    name = op.f("ck_api_tokens_ck_api_tokens_role")
    check = "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"
    with op.batch_alter_table(TOKENS) as batch:
        batch.drop_constraint(name, type_="check")
        batch.create_check_constraint(name, check)


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
    op.create_table(
        REVIEWS,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("recording_id", sa.String(100), nullable=False, unique=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seat_id", sa.String(8), nullable=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inspector", sa.String(200), nullable=True),
        sa.Column("scores", JSON_DOC, nullable=True),
        sa.Column("total", sa.Float(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_qa_reviews_day", REVIEWS, ["day"])
    op.create_index("ix_qa_reviews_seat_scored", REVIEWS, ["seat_id", "scored_at"])
    _role_check(ROLES_AFTER)


def downgrade() -> None:
    op.execute(sa.text(f"DELETE FROM {TOKENS} WHERE role = 'inspector'"))
    _role_check(ROLES_BEFORE)
    op.drop_index("ix_qa_reviews_seat_scored", table_name=REVIEWS)
    op.drop_index("ix_qa_reviews_day", table_name=REVIEWS)
    op.drop_table(REVIEWS)
    op.drop_index("ix_call_recordings_seat_started", table_name=TABLE)
    op.drop_index("ix_call_recordings_started_at", table_name=TABLE)
    op.drop_index("ix_call_recordings_linkedid", table_name=TABLE)
    op.drop_table(TABLE)

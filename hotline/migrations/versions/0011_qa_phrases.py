"""质检: when the Chinese phrase checks of a recording were taken (or given up on).

A recording is measured within seconds of the hang-up; transcribing its two tracks with a
Chinese Vosk model takes longer and runs after, so the register remembers which recordings
still wait for it (NULL: not yet checked; the measures' "phrases" then say pending or why not).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "call_recordings"


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("phrases_checked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("phrases_checked_at")

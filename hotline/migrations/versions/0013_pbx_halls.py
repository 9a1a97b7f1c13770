"""Several PBXs: every call record and every day's counters name the PBX (hall) they belong to.

Existing rows are the one PBX there was, named "main" (the default of [hall] pbx). The day's
counters are kept per PBX: their key becomes (day, pbx).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PBX_MAX = 32
FIRST = "main"


def upgrade() -> None:
    with op.batch_alter_table("call_records") as batch:
        batch.add_column(sa.Column("pbx", sa.String(PBX_MAX), nullable=False,
                                   server_default=FIRST))
        batch.create_index("ix_call_records_pbx", ["pbx"])
    with op.batch_alter_table("daily_stats") as batch:
        batch.add_column(sa.Column("pbx", sa.String(PBX_MAX), nullable=False,
                                   server_default=FIRST))
        batch.drop_constraint("pk_daily_stats", type_="primary")
        batch.create_primary_key("pk_daily_stats", ["day", "pbx"])


def downgrade() -> None:
    with op.batch_alter_table("daily_stats") as batch:
        batch.drop_constraint("pk_daily_stats", type_="primary")
        batch.execute(sa.text(f"DELETE FROM daily_stats WHERE pbx <> '{FIRST}'"))
        batch.create_primary_key("pk_daily_stats", ["day"])
        batch.drop_column("pbx")
    with op.batch_alter_table("call_records") as batch:
        batch.drop_index("ix_call_records_pbx")
        batch.drop_column("pbx")

"""Explicit token binding: an operator token names its one seat, or is a declared team lead.

Existing operator tokens named like a seat id (digits only, e.g. "07") are bound to that seat,
so they keep acting for it as before; other operator tokens are bound to no seat (an admin
declares a team lead with `hotline token add --role operator --team-lead`).

Revision ID: 0010
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "api_tokens"
SEAT_MAX = 16


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.add_column(sa.Column("seat", sa.String(SEAT_MAX), nullable=True))
        batch.add_column(sa.Column("team_lead", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    tokens = sa.table(TABLE, sa.column("id", sa.Integer()), sa.column("name", sa.String()),
                      sa.column("role", sa.String()), sa.column("seat", sa.String()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(tokens.c.id, tokens.c.name)
                              .where(tokens.c.role == "operator")).all()
    for token_id, name in rows:
        if name.isascii() and name.isdigit() and len(name) <= SEAT_MAX:
            connection.execute(tokens.update().where(tokens.c.id == token_id).values(seat=name))


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_column("team_lead")
        batch.drop_column("seat")

"""The one declarative Base every capability defines its models on.

A single MetaData lets Alembic see every table at once; the naming convention gives every
constraint and index a stable name, so migrations can drop or alter them on SQLite and
PostgreSQL alike (unnamed constraints cannot be altered portably).
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Shared by all capabilities: `class Seat(Base): __tablename__ = "seats"`."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)

"""Claims on work that is not a row yet (a spool entry): one node handles it at a time.

On PostgreSQL the claim is a transaction-level advisory lock taken with `pg_try_advisory_xact_lock`
on a connection of its own, held while the item is handled: a node that dies releases it with
its connection, and a node that finds it taken skips the item (the holder is on it). On SQLite
there is one node and the claim is always granted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker


def claim_key(namespace: str, key: str) -> int:
    """A stable signed 64-bit lock key for (namespace, key)."""
    digest = hashlib.sha256(f"{namespace}\0{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def item_claim(sessions: sessionmaker[Session], namespace: str, key: str) -> Iterator[bool]:
    """Yields True while this process holds the claim, False when another holds it."""
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.begin() as connection:
        held = bool(connection.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"),
                                      {"key": claim_key(namespace, key)}))
        yield held

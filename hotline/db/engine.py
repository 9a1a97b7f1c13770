"""Engine and session factory built from `[database] url`.

SQLite is the single-machine default: WAL lets the API read while a worker writes, the busy
timeout makes a writer wait for the lock instead of failing at once, and foreign keys are off
in SQLite unless switched on per connection. PostgreSQL is reached through psycopg 3.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 5_000
SQLITE_MEMORY_NAMES = ("", ":memory:")
POSTGRES_DRIVER = "postgresql+psycopg"
BACKENDS = ("sqlite", "postgresql")

SessionFactory = sessionmaker[Session]
# The store holds citizens' numbers and names: private to the service's user.
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def normalise_url(url: str | URL) -> URL:
    """Parse the URL and pin PostgreSQL to psycopg 3 (plain `postgresql://` means psycopg2)."""
    parsed = make_url(url)
    if parsed.get_backend_name() not in BACKENDS:
        raise ValueError(f"unsupported database {parsed.get_backend_name()!r}; "
                         f"expected one of {', '.join(BACKENDS)}")
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername=POSTGRES_DRIVER)
    return parsed


def backend_name(url: str | URL) -> str:
    """'sqlite' or 'postgresql', as the health report names it."""
    return make_url(url).get_backend_name()


def _sqlite_file(url: URL) -> Path | None:
    database = url.database or ""
    if database in SQLITE_MEMORY_NAMES or database.startswith("file:"):
        return None
    return Path(database)


def _private_sqlite_file(path: Path) -> None:
    """Create the file's folder (0700) and the file itself (0600) before SQLite does; an existing
    file is made 0600 too. SQLite gives its -wal and -shm files the database file's mode."""
    if not path.parent.exists():
        path.parent.mkdir(mode=PRIVATE_DIR, parents=True)
        os.chmod(path.parent, PRIVATE_DIR)
    # Never open an existing database file here: closing any descriptor on it drops every POSIX
    # lock this process holds on it, SQLite's included, and another process closing its connection
    # then takes itself for the last one and deletes the -wal and -shm files under this process's
    # feet ("disk I/O error"; SQLite's "How To Corrupt An SQLite Database File", 2.2).
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE))
    os.chmod(path, PRIVATE_FILE)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    """Create the engine; for a SQLite file, create its folder first (a fresh install has none)."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_file(parsed)
        if path is not None:
            _private_sqlite_file(path)
        # FastAPI runs sync routes in a thread pool: connections move between threads.
        connect_args = {"check_same_thread": False, **kwargs.pop("connect_args", {})}
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def make_session_factory(engine: Engine) -> SessionFactory:
    """Sessions keep loaded objects usable after commit (responses are built after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)

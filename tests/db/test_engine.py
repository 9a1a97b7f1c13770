"""Engine settings and the portable column types."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from hotline.db import (
    AuditEntry,
    backend_name,
    make_engine,
    make_session_factory,
    normalise_url,
    record_audit,
    session_scope,
    upgrade_database,
)
from hotline.db.engine import SQLITE_BUSY_TIMEOUT_MS

BEIJING = timezone(timedelta(hours=8))


def test_sqlite_engine_creates_the_folder_and_sets_wal_foreign_keys_and_busy_timeout(
        tmp_path: Path) -> None:
    database = tmp_path / "not" / "yet" / "hotline.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            journal = connection.execute(text("PRAGMA journal_mode")).scalar()
            foreign_keys = connection.execute(text("PRAGMA foreign_keys")).scalar()
            busy = connection.execute(text("PRAGMA busy_timeout")).scalar()
    finally:
        engine.dispose()
    assert database.parent.is_dir()
    assert (journal, foreign_keys, busy) == ("wal", 1, SQLITE_BUSY_TIMEOUT_MS)


def test_plain_postgresql_url_uses_psycopg_3() -> None:
    url = normalise_url("postgresql://hotline@db.example/hotline")

    assert url.drivername == "postgresql+psycopg"
    assert backend_name(url) == "postgresql"


def test_unsupported_database_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database 'mysql'"):
        make_engine("mysql://root@localhost/hotline")


def test_audit_entry_round_trips_aware_times_and_json_detail(database_url: str) -> None:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    factory = make_session_factory(engine)
    at_beijing_noon = datetime(2026, 3, 2, 12, 0, tzinfo=BEIJING)
    try:
        with session_scope(factory) as session:
            entry = record_audit(session, "seat.pause", actor="dashboard", role="operator",
                                 target="seat:07", detail={"reason": "培训", "minutes": 15})
            entry.at = at_beijing_noon
        with factory() as session:
            stored = session.scalars(select(AuditEntry)).one()
    finally:
        engine.dispose()

    assert stored.at == at_beijing_noon
    assert stored.at.tzinfo is not None and stored.at.utcoffset() == timedelta(0)
    assert stored.at.hour == 4  # kept as the same instant, expressed in UTC
    assert stored.detail == {"reason": "培训", "minutes": 15}
    assert (stored.actor, stored.role, stored.action, stored.target) == (
        "dashboard", "operator", "seat.pause", "seat:07")


def test_naive_datetimes_are_refused(sqlite_url: str) -> None:
    upgrade_database(sqlite_url)
    engine = make_engine(sqlite_url)
    try:
        with pytest.raises(StatementError, match="naive datetime"), \
                session_scope(make_session_factory(engine)) as session:
            entry = record_audit(session, "x")
            entry.at = datetime(2026, 1, 1, 8, 0)  # no tzinfo
            session.flush()
    finally:
        engine.dispose()


def test_session_scope_rolls_back_on_error(sqlite_url: str) -> None:
    upgrade_database(sqlite_url)
    engine = make_engine(sqlite_url)
    factory = make_session_factory(engine)
    try:
        with pytest.raises(RuntimeError), session_scope(factory) as session:
            record_audit(session, "never.committed")
            session.flush()
            raise RuntimeError("boom")
        with factory() as session:
            assert session.scalars(select(AuditEntry)).all() == []
    finally:
        engine.dispose()


def test_utc_now_is_aware() -> None:
    from hotline.db import utcnow

    assert utcnow().tzinfo is UTC


def test_the_sqlite_store_is_private(tmp_path: Path) -> None:
    """Issue 13: the database holds citizens' numbers; it, and a folder made for it, are private."""
    url = f"sqlite:///{tmp_path / 'new' / 'hotline.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with engine.connect():
        pass
    engine.dispose()
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    for path in (tmp_path / "new").iterdir():
        assert path.stat().st_mode & 0o777 == 0o600, path
    old = tmp_path / "old.db"
    old.write_bytes(b"")
    old.chmod(0o644)
    make_engine(f"sqlite:///{old}").dispose()
    assert old.stat().st_mode & 0o777 == 0o600


def test_a_second_engine_on_a_busy_sqlite_file_keeps_the_first_ones_locks(tmp_path: Path) -> None:
    """Seen in `./run demo`: a second engine on the service's own database (the bridge lease's)
    opened and closed the file to make it private, which dropped every lock the process held on
    it; when the demo traffic's process closed its connection, SQLite took it for the last one
    and deleted the -wal and -shm files, and the service's next write failed ("disk I/O error")."""
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'hotline.db'}"
    first = make_engine(url)
    with first.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    held = first.connect()  # the service keeps its connections open
    held.execute(text("SELECT count(*) FROM t")).all()
    held.commit()
    second = make_engine(url)
    script = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
              "c.execute('PRAGMA journal_mode=WAL'); c.execute('SELECT count(*) FROM t').fetchall(); "
              "c.close()")
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "hotline.db")], check=True)
    try:
        assert (tmp_path / "hotline.db-shm").exists() and (tmp_path / "hotline.db-wal").exists()
        held.execute(text("INSERT INTO t VALUES (1)"))
        held.commit()
        with second.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 1
    finally:
        held.close()
        first.dispose()
        second.dispose()

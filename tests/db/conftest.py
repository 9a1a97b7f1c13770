"""Databases for the store tests: a SQLite file per test, and a PostgreSQL schema per test
inside one database created for the session (dropped at the end).

PostgreSQL must be reachable: when it is not, the tests fail with a message saying so; they
never skip, since a schema that only works on SQLite is the bug they exist to catch.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from hotline.db import make_engine, make_session_factory, upgrade_database

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_URL_ENV = "HOTLINE_TEST_PG_URL"


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[URL]:
    """A database created for this test session on the PostgreSQL server, dropped after."""
    server = make_url(os.environ.get(PG_URL_ENV, DEFAULT_PG_URL))
    name = f"hotline_test_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.fail(f"PostgreSQL is not reachable at {server.render_as_string()}: "
                    f"{str(exc.orig).strip()}\nStart it, or point {PG_URL_ENV} at a server "
                    "where this user may CREATE DATABASE.", pytrace=False)
    try:
        yield server.set(database=name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url(postgres_database: URL) -> Iterator[str]:
    """A URL whose connections work in a fresh, empty schema of the session's database."""
    schema = f"t_{secrets.token_hex(6)}"
    engine = create_engine(postgres_database, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield _render(postgres_database.update_query_dict(
            {"options": f"-csearch_path={schema}"}))
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    # A folder that does not exist yet: the engine must create it.
    return f"sqlite:///{tmp_path / 'store' / 'hotline.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs on both backends."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return request.getfixturevalue(fixture)


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on the migrated store, on each backend in turn."""
    upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()

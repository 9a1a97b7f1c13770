"""Fixtures shared by the whole suite: databases, configurations and the sandbox PBX."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hotline.db import make_engine, make_session_factory, upgrade_database
from tests.db.conftest import (  # noqa: F401
    database_url,
    postgres_database,
    postgres_url,
    sessions,
    sqlite_url,
)
from tests.hall_pbx import HallPbx, instance_name, start_hall_pbx

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def db_sessions(database_url: str) -> Iterator[sessionmaker[Session]]:  # noqa: F811
    """A freshly migrated store, once on SQLite and once on PostgreSQL (`HOTLINE_TEST_PG_URL`):
    SQLite keeps what PostgreSQL refuses (over-long texts, NUL), so each store test runs on both."""
    url = database_url
    upgrade_database(url)
    engine = make_engine(url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def hall_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallPbx]:
    """One sandbox Asterisk with the hall's configuration for the whole session."""
    running = start_hall_pbx(instance_name("hall"), tmp_path_factory.mktemp("hall-pbx"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def clean_pbx(hall_pbx: HallPbx) -> Iterator[HallPbx]:
    """The session PBX with no channels and no logged-in seats, before and after the test."""
    hall_pbx.reset()
    yield hall_pbx
    hall_pbx.reset()

"""Fixtures shared by the whole suite: databases, configurations and the sandbox PBX."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hotline.db import make_engine, make_session_factory, upgrade_database
from tests.hall_pbx import HallPbx, instance_name, start_hall_pbx

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    """The server `./run test` found or started; tests fail (not skip) when it is not there."""
    return os.environ.get("HOTLINE_TEST_PG_URL", DEFAULT_PG_URL)


@pytest.fixture
def db_sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    """A freshly migrated SQLite database in the test's own folder."""
    url = f"sqlite:///{tmp_path / 'hotline.db'}"
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

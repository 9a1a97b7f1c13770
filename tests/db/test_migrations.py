"""Migrations bring an empty database to the models' schema, and back, on both backends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from hotline.config import load_config
from hotline.db import (
    current_revision,
    downgrade_database,
    head_revision,
    make_engine,
    upgrade_database,
)
from hotline.schema import MODEL_MODULES, import_models

REPO = Path(__file__).resolve().parents[2]
CORE_TABLES = {"api_tokens", "audit_log"}
FIRST_REVISION = "0001"


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _schema_differences(url: str) -> list[object]:
    metadata = import_models()
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_first_revision_creates_the_core_tables_and_upgrade_reaches_head(database_url: str) -> None:
    assert current_revision(database_url) is None

    upgrade_database(database_url, FIRST_REVISION)
    assert _tables(database_url) - {"alembic_version"} == CORE_TABLES
    assert current_revision(database_url) == FIRST_REVISION

    upgrade_database(database_url)
    assert _tables(database_url) >= CORE_TABLES
    assert current_revision(database_url) == head_revision()


def test_migrated_schema_matches_every_registered_model(database_url: str) -> None:
    """The models and the migrations describe the same tables, columns, types and indexes."""
    upgrade_database(database_url)

    assert _schema_differences(database_url) == []


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    upgrade_database(database_url)
    upgrade_database(database_url)

    assert current_revision(database_url) == head_revision()


def test_downgrade_to_base_removes_everything_and_upgrade_restores_it(database_url: str) -> None:
    upgrade_database(database_url)

    downgrade_database(database_url, "base")
    assert _tables(database_url) & CORE_TABLES == set()
    assert current_revision(database_url) is None

    upgrade_database(database_url)
    assert _tables(database_url) >= CORE_TABLES


def test_upgrade_works_from_any_working_directory(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The packaged alembic.ini is found from the package, not from the current folder."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    url = f"sqlite:///{tmp_path / 'db' / 'hotline.db'}"

    upgrade_database(url)

    assert _tables(url) >= CORE_TABLES
    assert os.listdir(elsewhere) == []


def test_upgrade_takes_the_configuration(tmp_path: Path) -> None:
    database = tmp_path / "var" / "hotline.db"
    config = load_config(REPO / "hotline.conf",
                         overrides={"database.url": f"sqlite:///{database}"})

    upgrade_database(config)

    assert database.is_file()
    assert current_revision(config) == head_revision()


def test_registry_lists_importable_model_modules() -> None:
    metadata = import_models()

    assert "hotline.auth.models" in MODEL_MODULES
    assert "hotline.db.audit" in MODEL_MODULES
    assert set(metadata.tables) >= CORE_TABLES


def test_0010_binds_existing_seat_named_operator_tokens_to_their_seat(database_url: str) -> None:
    """Tokens named '07' made before the explicit binding keep acting for seat 07; others get
    no seat (a team lead is declared, never guessed from a name)."""
    from sqlalchemy import text

    upgrade_database(database_url, "0006")
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            for number, (name, role) in enumerate((("07", "operator"), ("zhang.wei", "operator"),
                                                   ("12", "monitor")), start=1):
                connection.execute(text(
                    "INSERT INTO api_tokens (name, role, token_hash, created_at) "
                    "VALUES (:name, :role, :hash, CURRENT_TIMESTAMP)"),
                    {"name": name, "role": role, "hash": f"{number:064d}"})
        upgrade_database(database_url, "0010")
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT name, seat, team_lead FROM api_tokens ORDER BY id")).all()
    finally:
        engine.dispose()
    assert [(name, seat, bool(lead)) for name, seat, lead in rows] == [
        ("07", "07", False), ("zhang.wei", None, False), ("12", None, False)]

"""An app on a freshly migrated SQLite file, tokens per role, and a copy of the hall's files
for the CLI (which reads hotline.conf from disk)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hotline.api import create_app
from hotline.auth import Role, add_token, revoke_token
from hotline.config import HotlineConfig, load_config
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from tests.api.helpers import TokenMaker, admin_only_router

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def config(tmp_path: Path) -> HotlineConfig:
    config = load_config(REPO / "hotline.conf",
                         overrides={"database.url": f"sqlite:///{tmp_path}/t.db"})
    upgrade_database(config)
    return config


@pytest.fixture
def app(config: HotlineConfig) -> FastAPI:
    return create_app(config, extra_routers=[admin_only_router()])


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def make_token(config: HotlineConfig) -> Iterator[TokenMaker]:
    """make_token(role, name=...) -> plaintext, created straight through the service."""
    engine = make_engine(config.database.url)
    factory = make_session_factory(engine)

    def make(role: Role, name: str | None = None) -> str:
        with session_scope(factory) as session:
            return add_token(session, name or f"{role.value}-token", role)

    yield make
    engine.dispose()


@pytest.fixture
def revoke(config: HotlineConfig) -> Iterator[Callable[[str], None]]:
    engine = make_engine(config.database.url)

    def do(name: str) -> None:
        with session_scope(make_session_factory(engine)) as session:
            revoke_token(session, name)

    yield do
    engine.dispose()


@pytest.fixture
def hall_dir(tmp_path: Path) -> Path:
    """A copy of hotline.conf and hotline.secrets whose database lives in tmp (in a folder
    that does not exist yet)."""
    hall = tmp_path / "hall"
    hall.mkdir()
    text = (REPO / "hotline.conf").read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^url = .*$", f"url = sqlite:///{tmp_path}/db/cli.db", text)
    assert count == 1
    (hall / "hotline.conf").write_text(text, encoding="utf-8")
    shutil.copy(REPO / "hotline.secrets", hall / "hotline.secrets")
    shutil.copy(REPO / "remit.conf", hall / "remit.conf")
    return hall

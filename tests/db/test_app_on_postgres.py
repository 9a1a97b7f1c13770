"""The API on PostgreSQL: tokens authenticate and health names the backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hotline.api import create_app
from hotline.auth import Role, add_token
from hotline.config import load_config
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
def test_health_and_auth_on_postgresql(postgres_url: str) -> None:
    config = load_config(REPO / "hotline.conf", overrides={"database.url": postgres_url})
    upgrade_database(config)
    engine = make_engine(config.database.url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            token = add_token(session, "wallboard", Role.MONITOR)
    finally:
        engine.dispose()

    with TestClient(create_app(config)) as client:
        health = client.get("/api/health", headers={"Authorization": f"Bearer {token}"})
        anonymous = client.get("/api/health")

    assert health.status_code == 200
    assert health.json()["database"] == {"ok": True, "backend": "postgresql", "error": None}
    assert anonymous.status_code == 401

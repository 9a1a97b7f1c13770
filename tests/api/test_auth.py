"""401 without a usable token, 403 with the wrong role, and who is who."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from hotline.api import create_app
from hotline.auth import Role, add_token, require_role
from hotline.config import HotlineConfig, load_config
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from tests.api.helpers import TokenMaker, bearer

REVOCATION_WAIT_LIMIT_S = 15.0
"""Generous against a loaded machine; the cache promises 2 s (token_cache.MAX_STALENESS_S)."""


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "detail"}
    return body["error"]


def test_no_token_is_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.get("/api/health")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert _error(response) == {"code": "missing_token", "detail": None,
                                "message": "需要 API 令牌：请在请求头中发送 Authorization: Bearer <令牌>"}


@pytest.mark.parametrize("header", [
    "Bearer hl_not-a-real-token",
    "Bearer ",
    "Basic YWRtaW46YWRtaW4=",
    "hl_token-without-scheme",
])
def test_bad_or_malformed_tokens_are_401(client: TestClient, header: str) -> None:
    response = client.get("/api/me", headers={"Authorization": header})

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert _error(response)["code"] in {"missing_token", "invalid_token"}


def test_unknown_token_is_named_invalid(client: TestClient) -> None:
    response = client.get("/api/me", headers=bearer("hl_guessed"))

    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert _error(response) == {"code": "invalid_token",
                                "message": "API 令牌不存在或已被吊销",
                                "detail": None}


def test_revoked_token_stops_working_at_once(client: TestClient, make_token: TokenMaker,
                                             revoke: Callable[[str], None]) -> None:
    token = make_token(Role.OPERATOR, "night-shift")
    assert client.get("/api/me", headers=bearer(token)).status_code == 200

    revoke("night-shift")

    response = client.get("/api/me", headers=bearer(token))
    assert response.status_code == 401
    assert _error(response)["code"] == "invalid_token"


def test_monitor_on_an_admin_route_is_403(client: TestClient, make_token: TokenMaker) -> None:
    response = client.get("/api/test/admin-only", headers=bearer(make_token(Role.MONITOR)))

    assert response.status_code == 403
    error = _error(response)
    assert error == {"code": "forbidden",
                     "message": "此操作需要管理员（admin）令牌；令牌“monitor-token”的角色是监控（monitor）",
                     "detail": {"roles": ["admin"], "role": "monitor"}}


@pytest.mark.parametrize(("role", "path", "method", "expected"), [
    (Role.ADMIN, "/api/test/admin-only", "GET", 200),
    (Role.OPERATOR, "/api/test/admin-only", "GET", 403),
    (Role.ADMIN, "/api/test/operate", "POST", 200),
    (Role.OPERATOR, "/api/test/operate", "POST", 200),
    (Role.MONITOR, "/api/test/operate", "POST", 403),
    (Role.MONITOR, "/api/health", "GET", 200),
    (Role.OPERATOR, "/api/health", "GET", 200),
    (Role.ADMIN, "/api/health", "GET", 200),
])
def test_role_model(client: TestClient, make_token: TokenMaker, role: Role, path: str,
                    method: str, expected: int) -> None:
    """admin does everything; operator operates and reads; monitor only reads."""
    response = client.request(method, path, headers=bearer(make_token(role)))

    assert response.status_code == expected


@pytest.mark.parametrize(("role", "sees_numbers"), [
    (Role.ADMIN, True), (Role.OPERATOR, True), (Role.MONITOR, False)])
def test_me_names_the_caller(client: TestClient, make_token: TokenMaker, role: Role,
                             sees_numbers: bool) -> None:
    response = client.get("/api/me", headers=bearer(make_token(role, "zhang.wei")))

    assert response.status_code == 200
    assert response.json() == {"name": "zhang.wei", "role": role.value,
                               "sees_phone_numbers": sees_numbers, "seat": None, "team_lead": False}


def test_admin_is_always_admitted_and_roles_are_checked_when_declared() -> None:
    assert require_role(Role.MONITOR).roles == {Role.MONITOR, Role.ADMIN}
    assert require_role("operator").roles == {Role.OPERATOR, Role.ADMIN}
    with pytest.raises(ValueError, match="未知的角色“root”"):
        require_role("root")
    with pytest.raises(ValueError, match="at least one role"):
        require_role()


def test_a_revocation_by_the_cli_in_another_process_reaches_the_running_api(hall_dir: Path) -> None:
    """The API answers known tokens from memory; `hotline token revoke` run as its own process
    reaches it through the token table's fingerprint (hotline.auth.token_cache), within seconds."""
    config = load_config(hall_dir / "hotline.conf")
    upgrade_database(config)
    engine = make_engine(config.database.url)
    with session_scope(make_session_factory(engine)) as session:
        token = add_token(session, "wall-hall", Role.MONITOR)
    engine.dispose()
    app = create_app(config)
    with TestClient(app) as client:
        for _ in range(20):
            assert client.get("/api/me", headers=bearer(token)).status_code == 200
        assert app.state.token_cache.lookups == 1

        subprocess.run([sys.executable, "-m", "hotline.cli", "-c", str(hall_dir / "hotline.conf"),
                        "token", "revoke", "wall-hall"], check=True, capture_output=True)
        deadline = time.monotonic() + REVOCATION_WAIT_LIMIT_S
        while (response := client.get("/api/me", headers=bearer(token))).status_code == 200:
            assert time.monotonic() < deadline, "the revocation never reached the API"
            time.sleep(0.05)
        assert response.status_code == 401
        assert _error(response)["code"] == "invalid_token"


def test_a_token_check_without_the_database_is_a_503_in_chinese(config: HotlineConfig) -> None:
    def unreachable() -> None:
        raise OperationalError("SELECT", {}, ConnectionRefusedError("down"))

    app = create_app(config)
    with TestClient(app) as client:
        app.state.sessionmaker = unreachable
        response = client.get("/api/me", headers=bearer("hl_never-seen"))

    assert response.status_code == 503
    assert _error(response) == {"code": "database_unavailable", "detail": None,
                                "message": "数据库暂时不可用，无法核对令牌，请稍后再试"}

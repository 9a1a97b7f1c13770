"""No route is served without a declared role; the OpenAPI document says which."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient

from hotline.api import UnguardedRouteError, create_app
from hotline.api.routing import route_table
from hotline.auth import READERS, Role, require_role
from hotline.config import HotlineConfig, load_config
from hotline.db import upgrade_database
from tests.api.helpers import TokenMaker, bearer

CORE_ENDPOINTS = {"GET /api/health", "GET /api/me"}
PUBLIC_PAGES = {"/api/docs", "/api/openapi.json"}


def test_every_route_of_the_app_declares_a_role(config: HotlineConfig) -> None:
    table = route_table(create_app(config))
    endpoints = [route for route in table if route.is_api]

    # The walk must see the endpoints behind include_router, or this test proves nothing.
    assert {str(route) for route in endpoints} >= CORE_ENDPOINTS
    assert [str(route) for route in endpoints if not route.roles] == []
    assert {route.path for route in table if not route.is_api} == PUBLIC_PAGES


def test_core_routes_are_open_to_every_role(config: HotlineConfig) -> None:
    roles = {str(route): route.roles for route in route_table(create_app(config))}

    assert roles["GET /api/health"] == set(Role)
    assert roles["GET /api/me"] == set(Role)


def test_an_unguarded_route_stops_the_app_from_being_built(config: HotlineConfig) -> None:
    router = APIRouter()

    @router.get("/seats")
    def seats() -> list[str]:
        return []

    with pytest.raises(UnguardedRouteError, match=r"GET /api/seats declares no role"):
        create_app(config, extra_routers=[router])


def test_a_raw_starlette_route_is_refused(config: HotlineConfig) -> None:
    router = APIRouter()
    router.add_route("/raw", lambda request: None)

    with pytest.raises(UnguardedRouteError, match="not an API route"):
        create_app(config, extra_routers=[router])


def test_roles_given_to_a_router_or_a_nested_router_count(config: HotlineConfig) -> None:
    inner = APIRouter(prefix="/calls")

    @inner.get("/active")
    def active() -> list[str]:
        return []

    outer = APIRouter(prefix="/telephony", dependencies=[Depends(require_role(*READERS))])
    outer.include_router(inner)

    table = {str(r): r.roles for r in route_table(create_app(config, extra_routers=[outer]))}

    assert table["GET /api/telephony/calls/active"] == set(Role)


def test_nested_requirements_narrow_the_roles(config: HotlineConfig) -> None:
    router = APIRouter(dependencies=[Depends(require_role(*READERS))])

    @router.post("/pause", dependencies=[Depends(require_role(Role.OPERATOR))])
    def pause() -> None:
        return None

    table = {str(r): r.roles for r in route_table(create_app(config, extra_routers=[router]))}

    assert table["POST /api/pause"] == {Role.OPERATOR, Role.ADMIN}


def test_openapi_declares_bearer_auth_and_each_routes_roles(app: FastAPI,
                                                            client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()

    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "opaque",
        "description": document["components"]["securitySchemes"]["bearer"]["description"]}
    operations = {f"{method.upper()} {path}": operation
                  for path, item in document["paths"].items()
                  for method, operation in item.items()}
    assert set(operations) >= CORE_ENDPOINTS | {"GET /api/test/admin-only"}
    for name, operation in operations.items():
        assert operation["security"] == [{"bearer": []}], name
        assert "**Roles:**" in operation["description"], name
        assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorResponse"}, name
    assert operations["GET /api/health"]["description"].endswith(
        "**Roles:** admin, operator, monitor, inspector")
    assert operations["GET /api/test/admin-only"]["description"].endswith("**Roles:** admin")
    assert operations["POST /api/test/operate"]["description"].endswith(
        "**Roles:** admin, operator")


def test_docs_are_served_without_a_token(client: TestClient) -> None:
    assert client.get("/api/docs").status_code == 200


def test_apps_are_independent(config: HotlineConfig, tmp_path: Path,
                              make_token: TokenMaker) -> None:
    """Each app has its own engine and state: a token of one database means nothing in
    another."""
    other = load_config(config.path, overrides={"database.url": f"sqlite:///{tmp_path}/o.db"})
    upgrade_database(other)
    token = make_token(Role.ADMIN)

    with TestClient(create_app(config)) as first, TestClient(create_app(other)) as second:
        assert first.get("/api/me", headers=bearer(token)).status_code == 200
        assert second.get("/api/me", headers=bearer(token)).status_code == 401

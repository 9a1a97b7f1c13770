"""/api/health answers 200 even with the PBX away; every error has the same JSON shape."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi import APIRouter, Depends, HTTPException
from fastapi.testclient import TestClient

from hotline.api import create_app
from hotline.api.errors import INTERNAL_ERROR_MESSAGE
from hotline.api.version import service_version
from hotline.auth import Role, require_role
from hotline.config import HotlineConfig
from hotline.errors import SeatNotFound
from tests.api.helpers import TokenMaker, bearer

CONNECTED_AT = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)


@dataclass
class FakeAmi:
    """Shaped like the AMI client's status (telephony/ami), optional PBX fields included."""

    connected: bool = True
    last_error: str | None = None
    connected_since: datetime | None = CONNECTED_AT
    pbx_version: str | None = "20.11.0"
    pbx_uptime_seconds: float | None = 3600.0


def _shape(body: dict) -> dict:
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "detail"}
    return body["error"]


def test_health_without_ami_is_degraded_but_200(client: TestClient,
                                                make_token: TokenMaker) -> None:
    response = client.get("/api/health", headers=bearer(make_token(Role.MONITOR)))

    assert response.status_code == 200
    assert response.json() == {
        "status": "degraded",
        "ami": {"connected": False, "connected_since": None,
                "last_error": "AMI bridge not started", "pbx_version": None,
                "pbx_uptime_seconds": None, "stale_since": None},
        "database": {"ok": True, "backend": "sqlite", "error": None},
        "version": service_version(),
        "triage": None,  # the API-only app runs no triage worker
        "warnings": [],
        "node": None,  # an app built without hotline.wiring names no node and holds no bridge
        "bridges": [],
        "spools": [],  # nor runs spool workers
    }


def test_health_with_ami_connected_is_ok_and_shows_the_pbx(config: HotlineConfig,
                                                           make_token: TokenMaker) -> None:
    with TestClient(create_app(config, ami_status=FakeAmi())) as client:
        body = client.get("/api/health", headers=bearer(make_token(Role.MONITOR))).json()

    assert body["status"] == "ok"
    assert body["ami"] == {"connected": True, "connected_since": "2026-03-02T00:30:00Z",
                           "last_error": None, "pbx_version": "20.11.0",
                           "pbx_uptime_seconds": 3600.0, "stale_since": None}


def test_health_follows_the_live_status(config: HotlineConfig, make_token: TokenMaker) -> None:
    """The provider is read per request: a dropped AMI link shows on the next poll."""
    ami = FakeAmi()
    token = make_token(Role.MONITOR)
    with TestClient(create_app(config, ami_status=ami)) as client:
        assert client.get("/api/health", headers=bearer(token)).json()["status"] == "ok"
        ami.connected, ami.last_error = False, "connection refused"
        body = client.get("/api/health", headers=bearer(token)).json()

    assert body["status"] == "degraded"
    assert body["ami"]["last_error"] == "connection refused"


def test_a_status_provider_missing_fields_is_refused(config: HotlineConfig) -> None:
    with pytest.raises(TypeError, match="lacks connected"):
        create_app(config, ami_status=object())  # type: ignore[arg-type]


def test_unknown_path_is_a_json_404(client: TestClient) -> None:
    response = client.get("/api/no-such-thing")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert _shape(response.json()) == {"code": "not_found", "message": "没有这个地址", "detail": None}


def test_wrong_method_is_a_json_405_with_allow(client: TestClient) -> None:
    response = client.delete("/api/health")

    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert _shape(response.json()) == {"code": "method_not_allowed", "detail": None,
                                       "message": "这个地址不接受此请求方法"}


def test_invalid_input_is_a_422_in_our_shape(client: TestClient,
                                             make_token: TokenMaker) -> None:
    response = client.get("/api/test/count", params={"limit": "13800138000x"},
                          headers=bearer(make_token(Role.MONITOR)))

    assert response.status_code == 422
    error = _shape(response.json())
    assert error["code"] == "validation_error"
    assert error["message"] == "请求有误：查询参数 limit 应为整数"  # which field, in Chinese
    assert error["detail"] == [{"loc": ["query", "limit"], "type": "int_parsing",
                                "message": "应为整数"}]
    assert "13800138000x" not in response.text  # the rejected input is not echoed


def test_missing_parameter_is_a_422_too(client: TestClient, make_token: TokenMaker) -> None:
    response = client.get("/api/test/count", headers=bearer(make_token(Role.MONITOR)))

    assert response.status_code == 422
    error = _shape(response.json())
    assert error["detail"][0]["type"] == "missing"
    assert error["message"] == "请求有误：查询参数 limit 缺少此项"


def test_crash_is_a_logged_json_500_without_internals(client: TestClient,
                                                      make_token: TokenMaker,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="hotline.api.errors"):
        response = client.get("/api/test/crash", headers=bearer(make_token(Role.MONITOR)))

    assert response.status_code == 500
    assert _shape(response.json()) == {"code": "internal_error", "message": INTERNAL_ERROR_MESSAGE,
                                       "detail": None}
    assert "服务内部出错" in INTERNAL_ERROR_MESSAGE
    assert "secret internal state" not in response.text
    assert "Traceback" not in response.text
    logged = [r for r in caplog.records if r.name == "hotline.api.errors"]
    assert logged and logged[0].exc_info is not None
    assert "secret internal state" in caplog.text


def test_route_errors_keep_their_code_and_say_it_in_chinese(config: HotlineConfig,
                                                            make_token: TokenMaker) -> None:
    """A Refusal keeps its code and message; a bare HTTPException's English text is not shown."""
    router = APIRouter(dependencies=[Depends(require_role(Role.MONITOR))])

    @router.get("/seat/{seat_id}")
    def seat(seat_id: str) -> None:
        if seat_id == "99":
            raise HTTPException(404, "no seat 99")
        raise SeatNotFound(f"没有工号为 {seat_id} 的坐席", detail={"seat_id": seat_id})

    with TestClient(create_app(config, extra_routers=[router])) as client:
        token = make_token(Role.MONITOR)
        bare = client.get("/api/seat/99", headers=bearer(token))
        refused = client.get("/api/seat/77", headers=bearer(token))

    assert bare.status_code == 404
    assert _shape(bare.json()) == {"code": "not_found", "message": "没有这个地址", "detail": None}
    assert refused.status_code == 404
    assert _shape(refused.json()) == {"code": "seat_not_found", "message": "没有工号为 77 的坐席",
                                      "detail": {"seat_id": "77"}}

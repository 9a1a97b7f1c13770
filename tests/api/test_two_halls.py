"""The API with two PBXs (two halls), in process: seats carry their hall, a seat's actions go to its
own hall, /api/status is every hall together with each hall's part, reports split by hall, and an
unknown hall is refused in Chinese; /api/health shows the workers of every PBX's spools."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hotline.auth import Role, add_token
from hotline.config import load_config
from hotline.config.ini import write_overrides
from hotline.db import make_session_factory, session_scope, upgrade_database
from hotline.phones.baresip import free_port
from hotline.wiring import attach_bridge, build_app
from telephony.hall import Hall, Halls
from telephony.hall_feed import attach_halls
from tests.two_halls import two_hall_conf
from tests.web.conftest import wait_for


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    config = load_config(two_hall_conf(tmp_path / "hall"),
                         overrides={"database.url": f"sqlite:///{tmp_path}/api.db"})
    upgrade_database(config)
    app = build_app(config, bridge=False)
    halls = Halls([Hall(config.for_pbx(pbx.name), None) for pbx in config.pbxes])  # never started
    attach_bridge(app, halls)
    attach_halls(halls, app.state.live)
    with session_scope(make_session_factory(app.state.engine)) as session:
        token = add_token(session, "halls-admin", Role.ADMIN)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, {"Authorization": f"Bearer {token}"}
    app.state.engine.dispose()


def test_seats_of_both_halls_carry_their_hall(client: tuple[TestClient, dict[str, str]]) -> None:
    http, auth = client
    seats = http.get("/api/seats", headers=auth).json()
    assert len(seats) == 52
    west = [s for s in seats if s["hall"] == "west"]
    assert [(s["seat_id"], s["extension"], s["hall_name"]) for s in west] == [
        ("61", "1061", "城西大厅"), ("62", "1062", "城西大厅")]
    assert http.get("/api/seats/61", headers=auth).json()["hall"] == "west"
    assert http.get("/api/seats/07", headers=auth).json()["hall"] == "main"
    # The action goes to the seat's own hall (its AMI, unstarted here: unreachable, not "no such seat").
    action = http.post("/api/seats/61/login", headers=auth)
    assert action.status_code == 503 and action.json()["error"]["code"] == "pbx_unreachable"
    unknown = http.post("/api/seats/99/login", headers=auth)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "seat_not_found"


def test_status_is_every_hall_together_and_each_part(client: tuple[TestClient, dict[str, str]]) -> None:
    http, auth = client
    status = http.get("/api/status", headers=auth).json()
    assert [(h["name"], h["display_name"], h["seats"]["total"]) for h in status["halls"]] == [
        ("main", "12345政务服务便民热线", 50), ("west", "城西大厅", 2)]
    assert status["seats"]["total"] == 52 and status["seats"]["by_state"]["offline"] == 52
    assert status["ami"]["connected"] is False and status["queue"]["waiting"] == 0
    assert status["today"]["received"] == 0


def test_figures_per_hall_and_unknown_halls(client: tuple[TestClient, dict[str, str]]) -> None:
    http, auth = client
    assert http.get("/api/stats/today/west", headers=auth).json()["received"] == 0
    missing = http.get("/api/stats/today/east", headers=auth)
    assert missing.status_code == 404 and "没有名为 'east' 的大厅" in missing.json()["error"]["message"]
    stats = http.get("/api/stats", headers=auth).json()
    assert [(h["name"], h["display_name"]) for h in stats["halls"]] == [
        ("main", "12345政务服务便民热线"), ("west", "城西大厅"), ("", "合计")]
    west = http.get("/api/stats?hall=west", headers=auth).json()
    assert west["hall"] == "west" and [s["seat_id"] for s in west["seats"]] == ["61", "62"]
    for path in ("/api/stats?hall=east", "/api/reports?hall=east"):
        refused = http.get(path, headers=auth)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "unknown_hall"
        assert "可选：main、west" in refused.json()["error"]["message"]
    reports = http.get("/api/reports?hall=west", headers=auth).json()
    assert reports["hall"] == "west" and len(reports["halls"]) == 3


def test_health_shows_the_workers_of_every_spool(tmp_path: Path) -> None:
    """Each PBX writes into its own spools: the service runs a voicemail and a recording worker
    for each of the four folders, and /api/health shows every one of them passing (app.state
    used to keep only the last worker started of each kind)."""
    folders = {name: tmp_path / name for name in ("main-vm", "main-rec", "west-vm", "west-rec")}
    for folder in folders.values():
        folder.mkdir()
    conf = two_hall_conf(tmp_path / "hall")
    write_overrides(conf, {  # AMI at ports nobody listens on: the halls keep retrying, apart
        "ami.port": str(free_port()), "pbx west.ami_port": str(free_port()),
        "voicemail.spool": str(folders["main-vm"]), "recording.spool": str(folders["main-rec"]),
        "pbx west.voicemail_spool": str(folders["west-vm"]),
        "pbx west.recording_spool": str(folders["west-rec"]),
        "voicemail.archive": str(tmp_path / "archive"), "recording.archive": str(tmp_path / "calls"),
        "database.url": f"sqlite:///{tmp_path}/spools.db"})
    config = load_config(conf)
    upgrade_database(config)
    app = build_app(config)
    with session_scope(app.state.sessionmaker) as session:
        token = add_token(session, "spools-monitor", Role.MONITOR)
    seen: dict[str, list[dict[str, object]]] = {}
    auth = {"Authorization": f"Bearer {token}"}

    def every_worker_passed() -> bool:
        seen["spools"] = http.get("/api/health", headers=auth).json()["spools"]
        return len(seen["spools"]) == 4 and all(s["passes"] >= 1 for s in seen["spools"])

    with TestClient(app) as http:
        wait_for(every_worker_passed, 30, "a pass of every spool worker")
    app.state.engine.dispose()
    assert sorted((s["worker"], s["folder"]) for s in seen["spools"]) == sorted(
        [("voicemail-ingest", str(folders["main-vm"])), ("voicemail-ingest", str(folders["west-vm"])),
         ("call-recordings", str(folders["main-rec"])), ("call-recordings", str(folders["west-rec"]))])
    assert {s["last_error"] for s in seen["spools"]} == {None}

"""The callback routes: masking, claims, outcomes, and refusals that change nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hotline.api import create_app
from hotline.auth import Role, add_token
from hotline.config import load_config
from hotline.db import AuditEntry, make_engine, make_session_factory, session_scope, upgrade_database
from tests.voicemail.callback_fixtures import T0, add_valid, snapshot
from voicemail.callbacks.api import CLOCK_STATE_KEY, router

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[tuple[TestClient, dict[Role, str], object, list[int]]]:
    config = load_config(REPO / "hotline.conf",
                         overrides={"database.url": f"sqlite:///{tmp_path}/cb.db"})
    upgrade_database(config)
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        tokens = {role: add_token(session, f"{role.value}-t", role) for role in Role}
        tokens["other"] = add_token(session, "other-operator", Role.OPERATOR)
    ids = add_valid(sessions, 2)
    app = create_app(config, extra_routers=[router])
    clock = {"now": T0}
    setattr(app.state, CLOCK_STATE_KEY, lambda: clock["now"])
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, tokens, sessions, ids, clock
    engine.dispose()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_queue_masks_numbers_for_monitor_and_links_the_audio(hall) -> None:
    client, tokens, _, ids, _ = hall
    monitor = client.get("/api/callbacks", headers=auth(tokens[Role.MONITOR])).json()
    assert [i["id"] for i in monitor] == ids
    assert monitor[0]["number"] == "137****0000"
    assert monitor[0]["transcript_excerpt"] == "家里停水三天了"
    assert monitor[0]["department"] == "供水集团"
    assert monitor[0]["reasons"] == [{"code": "speech", "detail": "3.0 s in 4.0 s", "text_zh": "有人声"}]
    assert monitor[0]["audio_url"] == f"/api/voicemails/{monitor[0]['voicemail_id']}/audio"
    operator = client.get("/api/callbacks", headers=auth(tokens[Role.OPERATOR])).json()
    assert operator[0]["number"] == "13700000000"
    assert [i["citizen_name"] for i in operator] == ["王女士", None]
    one = client.get(f"/api/callbacks/{ids[0]}", headers=auth(tokens[Role.OPERATOR])).json()
    assert one["citizen_name"] == "王女士"


def test_claim_dial_outcome_flow_and_history(hall) -> None:
    client, tokens, sessions, ids, clock = hall
    me = auth(tokens[Role.OPERATOR])
    claimed = client.post("/api/callbacks/claim-next", headers=me)
    assert claimed.status_code == 200 and claimed.json()["id"] == ids[0]
    done = client.post(f"/api/callbacks/{ids[0]}/outcome", headers=me,
                       json={"outcome": "no_answer"})
    assert done.json()["state"] == "queued"
    clock["now"] = T0 + timedelta(minutes=60)
    client.post(f"/api/callbacks/{ids[0]}/claim", headers=me).raise_for_status()
    nul = client.post(f"/api/callbacks/{ids[0]}/outcome", headers=me, json={
        "outcome": "reached_transferred", "department": "供水集团", "note": "已转\x00办"})
    assert nul.status_code == 422  # a NUL in the note was a 500 on PostgreSQL (issue 13)
    final = client.post(f"/api/callbacks/{ids[0]}/outcome", headers=me, json={
        "outcome": "reached_transferred", "department": "供水集团", "note": "已转办"})
    assert final.json()["resolution"] == "transferred"
    detail = client.get(f"/api/callbacks/{ids[0]}", headers=auth(tokens[Role.MONITOR])).json()
    assert [h["outcome"] for h in detail["history"]] == ["no_answer", "reached_transferred"]
    with sessions() as session:
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.target == f"callback:{ids[0]}").order_by(AuditEntry.id)).all()
        actors = set(session.scalars(select(AuditEntry.actor).where(
            AuditEntry.action == "callback.outcome")))
    assert actions == ["callback.enqueue", "callback.claim", "callback.outcome",
                       "callback.claim", "callback.outcome"]
    assert actors == {"operator-t"}


@pytest.mark.parametrize(("setup", "request_", "code", "error"), [
    (None, ("post", "/api/callbacks/999/claim", None, Role.OPERATOR), 404, "callback_not_found"),
    ("claim", ("post", "/api/callbacks/{id}/claim", None, "other"), 409, "already_claimed"),
    ("close", ("post", "/api/callbacks/{id}/claim", None, Role.OPERATOR), 409, "closed"),
    ("claim", ("post", "/api/callbacks/{id}/outcome", {"outcome": "declined"}, "other"),
     403, "not_claimer"),
    (None, ("post", "/api/callbacks/{id}/outcome", {"outcome": "declined"}, Role.OPERATOR),
     409, "not_claimed"),
    (None, ("post", "/api/callbacks/{id}/claim", None, Role.MONITOR), 403, "forbidden"),
    ("claim", ("post", "/api/callbacks/{id}/outcome",
               {"outcome": "reached_transferred", "department": "火星局"}, Role.OPERATOR),
     422, "unknown_department"),
    ("claim", ("post", "/api/callbacks/{id}/dial", {"seat_id": "01"}, "other"), 503,
     "bridge_not_running"),
])
def test_bad_requests_are_refused_and_change_nothing(hall, setup, request_, code, error) -> None:
    client, tokens, sessions, ids, _ = hall
    me = auth(tokens[Role.OPERATOR])
    if setup in ("claim", "close"):
        client.post(f"/api/callbacks/{ids[0]}/claim", headers=me).raise_for_status()
    if setup == "close":
        client.post(f"/api/callbacks/{ids[0]}/outcome", headers=me,
                    json={"outcome": "reached_resolved"}).raise_for_status()
    with sessions() as session:
        before = snapshot(session)
        audits = session.scalar(select(func.count()).select_from(AuditEntry))
    method, path, body, who = request_
    response = client.request(method.upper(), path.format(id=ids[0]), json=body,
                              headers=auth(tokens[who]))
    assert response.status_code == code, response.text
    assert response.json()["error"]["code"] == error
    assert response.json()["error"]["message"]
    with sessions() as session:
        assert snapshot(session) == before
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits


def test_claim_next_on_an_empty_queue_is_a_clear_404(hall) -> None:
    client, tokens, _, _, _ = hall
    me = auth(tokens[Role.OPERATOR])
    for _ in range(2):
        client.post("/api/callbacks/claim-next", headers=me).raise_for_status()
    empty = client.post("/api/callbacks/claim-next", headers=me)
    assert empty.status_code == 404 and empty.json()["error"]["code"] == "nothing_to_claim"

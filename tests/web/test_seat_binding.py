"""Who may act for which seat: one rule (hotline/auth/seats.py) behind the seat routes, three-way
calls and the callback dial, over an explicit token binding (a seat, or a declared team lead).

The app is the service's own (build_app) with an unconnected hall: a request that passes the
own-seat check goes on to the PBX and gets 503, a refused one gets 403 and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hotline.auth import Role, TokenError, add_token
from hotline.auth.principal import Principal
from hotline.auth.seats import may_act_for_seat
from hotline.db import session_scope
from hotline.db.audit import AuditEntry
from tests.voicemail.callback_fixtures import add_valid
from tests.web.conftest import WebApp

PBX_NOT_CONNECTED = 503


@pytest.fixture
def client(web: WebApp) -> Iterator[TestClient]:
    with TestClient(web.app, raise_server_exceptions=False) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audits(web: WebApp) -> int:
    with web.sessions() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def test_the_rule() -> None:
    seat07 = Principal("07", Role.OPERATOR, seat="07")
    assert may_act_for_seat(seat07, "07") and not may_act_for_seat(seat07, "12")
    assert not may_act_for_seat(seat07, "7")  # ids compare exactly
    assert may_act_for_seat(Principal("lead", Role.OPERATOR, team_lead=True), "12")
    assert not may_act_for_seat(Principal("7", Role.OPERATOR), "12")  # bound to nothing
    assert not may_act_for_seat(Principal("wall", Role.MONITOR), "07")
    assert may_act_for_seat(Principal("root", Role.ADMIN), "12")


def test_tokens_are_bound_explicitly(web: WebApp, client: TestClient) -> None:
    named = web.token(Role.OPERATOR, "07")  # a token named after a seat is bound to it
    explicit = web.token(Role.OPERATOR, "zhang.wei", seat="12")
    lead = web.token(Role.OPERATOR, "team-lead", team_lead=True)
    loose = web.token(Role.OPERATOR, "7")  # "7" is not a seat of hotline.conf ("07" is)
    me = {name: client.get("/api/me", headers=bearer(token)).json()
          for name, token in (("named", named), ("explicit", explicit), ("lead", lead), ("loose", loose))}
    assert (me["named"]["seat"], me["named"]["team_lead"]) == ("07", False)
    assert (me["explicit"]["seat"], me["explicit"]["team_lead"]) == ("12", False)
    assert (me["lead"]["seat"], me["lead"]["team_lead"]) == (None, True)
    assert (me["loose"]["seat"], me["loose"]["team_lead"]) == ("7", False)
    with session_scope(web.sessions) as session:
        refused = (("m", Role.MONITOR, "07", False), ("a", Role.ADMIN, None, True),
                   ("b", Role.OPERATOR, "07", True), ("c", Role.OPERATOR, "٠٧", False))
        for name, role, seat, lead_flag in refused:
            with pytest.raises(TokenError):
                add_token(session, name, role, seat=seat, team_lead=lead_flag)


def test_seat_routes_follow_the_binding(web: WebApp, client: TestClient) -> None:
    seat07, loose = web.token(Role.OPERATOR, "07"), web.token(Role.OPERATOR, "7")
    lead = web.token(Role.OPERATOR, "team-lead", team_lead=True)
    unbound = web.token(Role.OPERATOR, "alice")
    before = audits(web)
    for token, seat, status in ((seat07, "12", 403), (loose, "07", 403), (loose, "12", 403),
                                (unbound, "07", 403), (seat07, "07", PBX_NOT_CONNECTED),
                                (lead, "12", PBX_NOT_CONNECTED)):
        answer = client.post(f"/api/seats/{seat}/login", headers=bearer(token))
        assert answer.status_code == status, (seat, answer.text)
        if status == 403:
            assert answer.json()["error"]["code"] == "not_your_seat"
    assert audits(web) == before


def test_three_way_follows_the_binding(web: WebApp, client: TestClient) -> None:
    seat07 = web.token(Role.OPERATOR, "07")
    lead = web.token(Role.OPERATOR, "team-lead", team_lead=True)
    body = {"seat_id": "12", "department": "住房和城乡建设局"}
    refused = client.post("/api/threeway/calls/1.1/start", headers=bearer(seat07), json=body)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_your_seat"
    # A team lead used to be refused here (three-way checked the token's name only).
    passed = client.post("/api/threeway/calls/1.1/start", headers=bearer(lead), json=body)
    assert passed.status_code != 403, passed.text


def test_callback_dial_rings_only_a_seat_the_token_may_act_for(web: WebApp, client: TestClient) -> None:
    (callback_id,) = add_valid(web.sessions, 1)
    seat07 = web.token(Role.OPERATOR, "07")
    claimed = client.post(f"/api/callbacks/{callback_id}/claim", headers=bearer(seat07))
    assert claimed.status_code == 200, claimed.text
    before = audits(web)
    refused = client.post(f"/api/callbacks/{callback_id}/dial", headers=bearer(seat07),
                          json={"seat_id": "12"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_your_seat"
    assert "07" in refused.json()["error"]["message"]
    own = client.post(f"/api/callbacks/{callback_id}/dial", headers=bearer(seat07), json={"seat_id": "07"})
    assert own.status_code != 403, own.text
    assert audits(web) == before


@pytest.mark.parametrize("reason", ["午\x00休", "午休\x1b[2J", "午休\x85"])
def test_a_control_character_in_a_pause_reason_is_a_clear_422(web: WebApp, client: TestClient,
                                                               reason: str) -> None:
    seat07 = web.token(Role.OPERATOR, "07")
    before = audits(web)
    answer = client.post("/api/seats/07/pause", headers=bearer(seat07), json={"reason": reason})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] in ("invalid_reason", "validation_error")
    assert audits(web) == before

"""The callback queue against the real sandbox Asterisk, through `hotline serve`.

A staff member claims a callback and dials it from their seat: AMI Originate rings the seat's
baresip phone, which answers; the dialplan then calls the citizen through [trunk], where a
non-registering baresip phone on 127.0.0.2 (the address the trunk is identified by) stands in for
the outside line. Outcomes go through the API; retries are checked against due_at, and the
retry's claim uses the service's injected clock instead of waiting retry_minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.auth import Role, add_token
from hotline.db import make_engine, make_session_factory, session_scope
from hotline.db.audit import AuditEntry
from hotline.phones import BaresipPhone
from hotline.phones.baresip import free_port
from tests.hall_pbx import HallPbx, instance_name, start_hall_pbx
from tests.integration.harness import (
    OUTSIDE_HOST,
    Api,
    enqueue_callback_row,
    outside_line,
    seat_phone,
    trunk_reachable,
    wait_for,
)
from tests.service_process import ServiceProcess
from voicemail.callbacks import service as callbacks
from voicemail.callbacks.errors import NotDue

pytestmark = pytest.mark.pbx

CITIZEN = "13800138000"  # the dialled number is the outside phone's SIP user, so baresip takes it
SEAT = "01"
STAFF = "staff-a"
OTHER_STAFF = "staff-b"
RETRY_MINUTES = 5
MAX_ATTEMPTS = 2
CALL_TIMEOUT_S = 15.0


@dataclass
class Env:
    pbx: HallPbx
    service: ServiceProcess
    api: Api  # operator STAFF
    other: Api  # operator OTHER_STAFF
    trunk_port: int

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session on the service's own database (committed by the caller)."""
        engine = make_engine(self.pbx.config.database.url)
        try:
            with make_session_factory(engine)() as session:
                yield session
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    work = tmp_path_factory.mktemp("callbacks")
    trunk_port = free_port(span=2)  # baresip also takes TLS on port+1
    pbx = start_hall_pbx(
        instance_name("callbacks"), work / "pbx",
        {"trunk.host": OUTSIDE_HOST, "trunk.port": str(trunk_port),
         "callbacks.retry_minutes": str(RETRY_MINUTES),
         "callbacks.max_attempts": str(MAX_ATTEMPTS)},
        extra_secrets=f"[trunk]\npassword = {secrets.token_hex(8)}")
    service = ServiceProcess(pbx.config, work / "serve.log")
    try:
        service.make_tokens()
        engine = make_engine(pbx.config.database.url)
        try:
            with session_scope(make_session_factory(engine)) as session:
                staff = add_token(session, STAFF, Role.OPERATOR, seat=SEAT)
                other = add_token(session, OTHER_STAFF, Role.OPERATOR)
        finally:
            engine.dispose()
        asyncio.run(service.start())
        yield Env(pbx, service, Api(service.base_url, {"Authorization": f"Bearer {staff}"}),
                  Api(service.base_url, {"Authorization": f"Bearer {other}"}), trunk_port)
    finally:
        service.stop()
        pbx.stop()


@pytest.fixture
async def seat(env: Env, tmp_path: Path) -> AsyncIterator[BaresipPhone]:
    """The staff member's own seat phone, answering automatically, registered and seen by the board."""
    env.pbx.reset()
    phone = seat_phone(env.pbx.config, SEAT, tmp_path / "phones", auto_answer=True)
    async with phone:
        await env.api.wait_state(SEAT, "logged_out")
        yield phone
    env.pbx.reset()


def audit_actions(env: Env, callback_id: int) -> list[tuple[str, str]]:
    with env.session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.target == f"callback:{callback_id}")
                                  .order_by(AuditEntry.id))
        return [(e.action, e.actor) for e in entries]


async def post_ok(api: Api, path: str, json: Any = None) -> dict[str, Any]:
    response = await api.post(path, json=json)
    assert response.status_code == 200, response.text
    return response.json()


async def dial(env: Env, callback_id: int) -> dict[str, Any]:
    body = await post_ok(env.api, f"/api/callbacks/{callback_id}/dial", {"seat_id": SEAT})
    assert body["state"] == "claimed" and body["claimed_by"] == STAFF
    return body


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


async def test_claim_dial_reach_and_record(env: Env, seat: BaresipPhone, tmp_path: Path) -> None:
    callback_id = enqueue_callback_row(env.pbx.config.database.url, CITIZEN, "reached")
    async with outside_line(env.pbx.config, CITIZEN, tmp_path, auto_answer=True) as citizen:
        await trunk_reachable(env.pbx)
        claimed = await post_ok(env.api, "/api/callbacks/claim-next")
        assert claimed["id"] == callback_id and claimed["claimed_by"] == STAFF
        await dial(env, callback_id)

        seat_leg = await seat.wait_for("CALL_ESTABLISHED", CALL_TIMEOUT_S)
        assert seat_leg.direction == "incoming"
        citizen_leg = await citizen.wait_for("CALL_ESTABLISHED", CALL_TIMEOUT_S)
        assert citizen_leg.direction == "incoming"
        assert citizen_leg.raw["accountaor"].startswith(f"sip:{CITIZEN}@{OUTSIDE_HOST}")

        async def connected() -> dict[str, Any] | None:
            view = await env.api.seat(SEAT)
            call = view.get("call") or {}
            return view if view["state"] == "on_call" and call.get("citizen_number") == CITIZEN else None

        await wait_for(connected, CALL_TIMEOUT_S, f"seat {SEAT} on_call with {CITIZEN}")
        # Someone else cannot write the outcome of a callback STAFF holds.
        refused = await env.other.post(f"/api/callbacks/{callback_id}/outcome",
                                       json={"outcome": "reached_resolved"})
        assert refused.status_code == 403, refused.text

        await citizen.hangup()  # the citizen hangs up: the seat's call ends with it
        await seat.wait_for("CALL_CLOSED", CALL_TIMEOUT_S)
        await env.api.wait_state(SEAT, "logged_out")

    done = await post_ok(env.api, f"/api/callbacks/{callback_id}/outcome",
                         {"outcome": "reached_resolved", "note": "已回访，问题已解决"})
    assert done["state"] == "closed" and done["resolution"] == "resolved"
    detail = await env.api.get(f"/api/callbacks/{callback_id}")
    assert detail["attempts"] == 1 and detail["claimed_by"] is None
    [attempt] = detail["history"]
    assert attempt["outcome"] == "reached_resolved" and attempt["staff"] == STAFF
    assert attempt["seat_id"] == SEAT and attempt["dialed_at"] is not None
    assert attempt["note"] == "已回访，问题已解决"
    assert audit_actions(env, callback_id) == [
        ("callback.enqueue", "system"), ("callback.claim", STAFF), ("callback.dial", STAFF),
        ("callback.outcome", STAFF)]
    again = await env.api.post(f"/api/callbacks/{callback_id}/claim")
    assert again.status_code == 409 and again.json()["error"]["code"] == "closed"


async def test_no_answer_is_retried_then_closed_unreachable(
        env: Env, seat: BaresipPhone, tmp_path: Path) -> None:
    callback_id = enqueue_callback_row(env.pbx.config.database.url, CITIZEN, "unanswered")
    async with outside_line(env.pbx.config, CITIZEN, tmp_path, auto_answer=False) as citizen:
        await trunk_reachable(env.pbx)

        # Attempt 1: the citizen's phone rings, nobody answers; the staff member gives up.
        await post_ok(env.api, f"/api/callbacks/{callback_id}/claim")
        await dial(env, callback_id)
        await seat.wait_for("CALL_ESTABLISHED", CALL_TIMEOUT_S)
        ringing = await citizen.wait_for("CALL_INCOMING", CALL_TIMEOUT_S)
        assert ringing.direction == "incoming"
        on_call = await env.api.wait_state(SEAT, "on_call", CALL_TIMEOUT_S)
        assert on_call["call"] is not None
        await seat.hangup()
        await citizen.wait_for("CALL_CLOSED", CALL_TIMEOUT_S)
        await env.api.wait_state(SEAT, "logged_out")
        assert not [e for e in citizen.events if e.type == "CALL_ESTABLISHED"]

        first = await post_ok(env.api, f"/api/callbacks/{callback_id}/outcome",
                              {"outcome": "no_answer"})
        assert first["state"] == "queued" and first["attempts"] == 1
        [attempt] = (await env.api.get(f"/api/callbacks/{callback_id}"))["history"]
        assert attempt["outcome"] == "no_answer"
        due_at = parse(first["due_at"])
        assert due_at == parse(attempt["recorded_at"]) + timedelta(minutes=RETRY_MINUTES)
        # Not due yet: neither a direct claim nor "claim next" takes it.
        early = await env.api.post(f"/api/callbacks/{callback_id}/claim")
        assert early.status_code == 409 and early.json()["error"]["code"] == "not_due"
        nothing = await env.api.post("/api/callbacks/claim-next")
        assert nothing.status_code == 404, nothing.text

        # The service's clock, injected: a second before due_at it is still waiting; at due_at
        # STAFF claims it (the claim then holds for claim_minutes past due_at, i.e. now too).
        settings = env.pbx.config.callbacks
        actor = callbacks.Actor(STAFF, Role.OPERATOR.value)
        with env.session() as session:
            with pytest.raises(NotDue) as refused:
                callbacks.claim(session, callback_id, actor, due_at - timedelta(seconds=1), settings)
            assert refused.value.code == "not_due"
            session.rollback()
            callbacks.claim(session, callback_id, actor, due_at, settings)
            session.commit()

        # Attempt 2: the citizen's phone rings and the call is rejected (busy).
        await dial(env, callback_id)
        await seat.wait_for("CALL_ESTABLISHED", CALL_TIMEOUT_S)
        await citizen.wait_for("CALL_INCOMING", CALL_TIMEOUT_S)
        await citizen.hangup()
        await seat.wait_for("CALL_CLOSED", CALL_TIMEOUT_S)
        await env.api.wait_state(SEAT, "logged_out")

    closed = await post_ok(env.api, f"/api/callbacks/{callback_id}/outcome", {"outcome": "busy"})
    assert closed["state"] == "closed" and closed["resolution"] == "unreachable"
    assert closed["attempts"] == MAX_ATTEMPTS
    history = (await env.api.get(f"/api/callbacks/{callback_id}"))["history"]
    assert [(a["attempt"], a["outcome"], a["staff"], a["seat_id"]) for a in history] == [
        (1, "no_answer", STAFF, SEAT), (2, "busy", STAFF, SEAT)]
    assert all(a["dialed_at"] is not None for a in history)
    actions = [action for action, _ in audit_actions(env, callback_id)]
    assert actions == ["callback.enqueue", "callback.claim", "callback.dial", "callback.outcome",
                       "callback.claim", "callback.dial", "callback.outcome"]


"""Monitors see citizens' numbers masked everywhere they can read them: in number fields, and in
free text (triage explanations and reasons, transcripts with spoken digits, three-way parties),
all through hotline/privacy.py. Operators and admins see them whole."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from hotline.auth import Role
from hotline.db import session_scope
from hotline.privacy import mask_numbers_in
from telephony.threeway.session import Party, PartyState, ThreeWaySession
from telephony.threeway.session import Role as PartyRole
from tests.voicemail.callback_fixtures import add_valid
from tests.web.conftest import WebApp
from voicemail.callbacks.models import Callback
from voicemail.models import Voicemail

NUMBER = "13912345678"
MASKED = "139****5678"
SPOKEN = "我的电话是一三九 一二三四 五六七八"
SPOKEN_MASKED = "我的电话是一三九****五六七八"


@pytest.fixture
def client(web: WebApp) -> Iterator[TestClient]:
    with TestClient(web.app, raise_server_exceptions=False) as test_client:
        yield test_client


def as_role(web: WebApp, client: TestClient, role: Role, path: str) -> object:
    response = client.get(path, headers={"Authorization": f"Bearer {web.token(role, f'{role.value}-m')}"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("text", "shown"), [
    (f"回拨号码 {NUMBER}，请尽快", f"回拨号码 {MASKED}，请尽快"),
    (SPOKEN, SPOKEN_MASKED),
    ("座机 0571-87654321", "座机 057*****4321"),
    ("有效：人声 31 秒；2026-11-28 来电", "有效：人声 31 秒；2026-11-28 来电"),  # nothing to hide
    # Written the way people write them (a written message, a contact check's reason):
    ("请回电 139-1287-3456", "请回电 139****3456"),
    ("联系电话“138-1234-5678转8”", "联系电话“138****5678转8”"),
    ("电话-13912873456", "电话-139****3456"),
    ("2026-11-28 13912873456，08:30-17:30", "2026-11-28 139****3456，08:30-17:30"),
])
def test_numbers_inside_text_are_masked(text: str, shown: str) -> None:
    assert mask_numbers_in(text) == shown


def test_voicemail_explanation_and_reasons(web: WebApp, client: TestClient) -> None:
    with session_scope(web.sessions) as session:
        session.add(Voicemail(recording_id="rec-mask", caller_num=NUMBER, state="valid",
                              explanation_zh=f"有效：留言说回拨 {NUMBER}",
                              triage_reasons=[{"code": "callback_number", "detail": SPOKEN}],
                              review_reasons=[{"code": "spool", "detail": f"caller {NUMBER}"}]))
    monitor = as_role(web, client, Role.MONITOR, "/api/voicemails")["items"][0]  # type: ignore[index]
    assert monitor["caller_num"] == MASKED
    assert monitor["explanation_zh"] == f"有效：留言说回拨 {MASKED}"
    assert monitor["triage_reasons"] == [{"code": "callback_number", "detail": SPOKEN_MASKED,
                                          "text_zh": SPOKEN_MASKED}]  # what the pages show, masked too
    assert monitor["review_reasons"] == [{"code": "spool", "detail": f"caller {MASKED}",
                                          "text_zh": "其他原因"}]
    operator = as_role(web, client, Role.OPERATOR, "/api/voicemails")["items"][0]  # type: ignore[index]
    assert operator["explanation_zh"] == f"有效：留言说回拨 {NUMBER}"
    assert operator["triage_reasons"][0]["detail"] == SPOKEN


def test_callback_transcript_and_reasons(web: WebApp, client: TestClient) -> None:
    (callback_id,) = add_valid(web.sessions, 1)
    with session_scope(web.sessions) as session:
        row = session.get(Callback, callback_id)
        assert row is not None
        row.transcript_excerpt = SPOKEN
        row.reasons = [{"code": "callback_number", "message": f"留言里的号码 {NUMBER}"}]
    monitor = as_role(web, client, Role.MONITOR, f"/api/callbacks/{callback_id}")
    assert monitor["transcript_excerpt"] == SPOKEN_MASKED  # type: ignore[index]
    assert monitor["reasons"] == [{"code": "callback_number", "message": f"留言里的号码 {MASKED}",  # type: ignore[index]
                                   "text_zh": f"留言里的号码 {MASKED}"}]
    admin = as_role(web, client, Role.ADMIN, f"/api/callbacks/{callback_id}")
    assert admin["transcript_excerpt"] == SPOKEN  # type: ignore[index]


def test_three_way_participants(web: WebApp, client: TestClient) -> None:
    assert web.hall is not None
    now = datetime.now(UTC)
    web.hall.threeway._remember(ThreeWaySession(
        session_id="tw-mask-1", room="hotline-3way-tw-mask-1", seat_id="07", linkedid="1.1",
        department="供水集团", citizen=Party(PartyRole.CITIZEN, NUMBER, PartyState.TALKING),
        operator=Party(PartyRole.OPERATOR, "07", PartyState.TALKING),
        experts=[Party(PartyRole.EXPERT, "刘强", PartyState.RINGING, dialled_at=now)],
        ring_seconds=20, started_at=now))
    monitor = as_role(web, client, Role.MONITOR, "/api/threeway/sessions/tw-mask-1")
    names = {p["role"]: p["name"] for p in monitor["participants"]}  # type: ignore[index]
    assert names == {"citizen": MASKED, "operator": "07", "expert": "刘强"}
    operator = as_role(web, client, Role.OPERATOR, "/api/threeway/sessions/tw-mask-1")
    assert {p["role"]: p["name"] for p in operator["participants"]}["citizen"] == NUMBER  # type: ignore[index]

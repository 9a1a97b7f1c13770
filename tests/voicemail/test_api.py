"""The voicemail routes: roles, masking, and audio served only from the register."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hotline.api import create_app
from hotline.auth import Role, add_token
from hotline.config import HotlineConfig, load_config
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from tests.voicemail.test_ingest import put_message
from voicemail.api import router
from voicemail.ingest import IngestSettings, ingest_spool

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[tuple[TestClient, dict[Role, str], HotlineConfig]]:
    config = load_config(REPO / "hotline.conf", overrides={
        "database.url": f"sqlite:///{tmp_path}/vm.db", "voicemail.spool": str(tmp_path / "spool"),
        "voicemail.archive": str(tmp_path / "archive")})
    upgrade_database(config)
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        tokens = {role: add_token(session, f"{role.value}-t", role) for role in Role}
    put_message(config.voicemail.spool, "1795813129-24", number="13812348000", seconds=2)
    put_message(config.voicemail.spool, "1795813130-25", number="", audio=b"")
    ingest_spool(IngestSettings(config.voicemail.spool, config.voicemail.archive, 120), sessions)
    with TestClient(create_app(config, extra_routers=[router]), raise_server_exceptions=False) as client:
        yield client, tokens, config
    engine.dispose()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_monitor_sees_masked_numbers_operator_sees_them_whole(hall) -> None:
    client, tokens, _ = hall
    monitor = client.get("/api/voicemails", headers=auth(tokens[Role.MONITOR])).json()
    assert monitor["total"] == 2
    numbers = {item["recording_id"]: item["caller_num"] for item in monitor["items"]}
    assert numbers["1795813129-24"] == "138****8000"
    operator = client.get("/api/voicemails", headers=auth(tokens[Role.OPERATOR])).json()
    assert {i["caller_num"] for i in operator["items"]} >= {"13812348000"}
    assert client.get("/api/voicemails?state=needs_review",
                      headers=auth(tokens[Role.MONITOR])).json()["total"] == 1


def test_audio_needs_an_operator_and_comes_from_the_archive(hall) -> None:
    client, tokens, _ = hall
    items = client.get("/api/voicemails", headers=auth(tokens[Role.OPERATOR])).json()["items"]
    good = next(i for i in items if i["recording_id"] == "1795813129-24")
    response = client.get(f"/api/voicemails/{good['id']}/audio", headers=auth(tokens[Role.OPERATOR]))
    assert response.status_code == 200 and response.content[:4] == b"RIFF"
    assert response.headers["content-type"] == "audio/wav"
    denied = client.get(f"/api/voicemails/{good['id']}/audio", headers=auth(tokens[Role.MONITOR]))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"


def test_bad_requests_are_clear_json(hall) -> None:
    client, tokens, _ = hall
    headers = auth(tokens[Role.ADMIN])
    missing = client.get("/api/voicemails/9999", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "voicemail_not_found"
    # Ids are digits (as for callbacks): /voicemails/abc names no route, and says so in JSON.
    not_an_id = client.get("/api/voicemails/abc", headers=headers)
    assert not_an_id.status_code == 404 and not_an_id.json()["error"]["code"]
    assert client.get("/api/voicemails?state=bogus", headers=headers).status_code == 422
    escape = client.get("/api/voicemails/..%2F..%2Fetc%2Fpasswd/audio", headers=headers)
    assert escape.status_code in (404, 422)
    assert client.get("/api/voicemails").status_code == 401

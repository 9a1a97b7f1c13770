"""The written channels announce their changes on the live feed, through the notifier wiring hands
in: a received or decided message once its transaction committed; a refusal or a replay, nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi.testclient import TestClient

from hotline.auth import Role, add_token
from hotline.config import load_config
from hotline.db import session_scope, upgrade_database
from hotline.wiring import build_app

REPO = Path(__file__).resolve().parents[2]
WAIT_S = 5.0
QUIET_S = 0.3


async def test_received_and_decided_messages_are_announced_refusals_are_not(database_url: str) -> None:
    config = load_config(REPO / "hotline.conf", overrides={"database.url": database_url})
    upgrade_database(config)
    app = build_app(config, bridge=False)
    with session_scope(app.state.sessionmaker) as session:
        headers = {"Authorization": f"Bearer {add_token(session, 'website', Role.OPERATOR)}"}
    sub = app.state.live.subscribe()
    body = {"channel": "网上民声", "author": "王女士", "contact": "13912873456",
            "text": "路口的井盖丢了", "written_at": "2026-12-03T09:15:00+08:00"}
    keyed = headers | {"Idempotency-Key": "k1"}
    with TestClient(app, raise_server_exceptions=False) as client:
        post = client.post
        sent = await asyncio.to_thread(post, "/api/messages", json=body, headers=keyed)
        assert sent.status_code == 201, sent.text
        event = await sub.next_event(WAIT_S)
        assert event is not None and event.kind == "messages"
        assert event.payload == {"reason": "received", "ids": [sent.json()["id"]]}

        replay = await asyncio.to_thread(post, "/api/messages", json=body, headers=keyed)
        assert replay.status_code == 200
        wrong = {"action": "transfer", "department": "不存在局"}
        refused = await asyncio.to_thread(post, f"/api/messages/{sent.json()['id']}/decision",
                                          json=wrong, headers=headers)
        assert refused.status_code == 422
        assert await sub.next_event(QUIET_S) is None

        done = await asyncio.to_thread(post, f"/api/messages/{sent.json()['id']}/decision",
                                       json={"action": "approve"}, headers=headers)
        assert done.status_code == 200, done.text
        event = await sub.next_event(WAIT_S)
    assert event is not None and event.kind == "messages"
    assert event.payload == {"reason": "decided", "ids": [sent.json()["id"]], "state": "approved"}
    app.state.engine.dispose()

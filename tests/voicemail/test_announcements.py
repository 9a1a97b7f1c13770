"""Each change voicemail and the callback queue make is announced once, by the capability itself,
through the notifier it is handed (hotline.announce implements it over the live feed): after the
commit, never for a refusal, and also for what the old URL-prefix middleware could not see (a read
that expired a claim, the workers' passes)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hotline.announce import LiveCallbackNotifier, LiveVoicemailNotifier
from hotline.auth import Role, add_token
from hotline.config import load_config
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from hotline.live import LiveFeed
from hotline.wiring import build_app
from tests.voicemail.callback_fixtures import T0, add_valid
from tests.voicemail.test_ingest import put_message
from voicemail.callbacks.api import CLOCK_STATE_KEY
from voicemail.callbacks.service import Actor, claim
from voicemail.callbacks.worker import CallbackSweeper
from voicemail.ingest import IngestSettings
from voicemail.ingest_worker import VoicemailIngestWorker
from voicemail.models import STATE_NEEDS_REVIEW, Voicemail

REPO = Path(__file__).resolve().parents[2]
OVERRIDDEN = [("voicemails", {"reason": "overridden"}), ("callbacks", {"reason": "triage"})]
CHANGED = [("callbacks", {"reason": "changed"})]
EXPIRED = [("callbacks", {"reason": "claims_expired"})]


class RecordingFeed(LiveFeed):
    """The real feed, keeping what was published."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, Any]] = []

    def publish(self, kind: str, payload: Any = None) -> None:
        self.published.append((kind, payload))
        super().publish(kind, payload)

    def take(self) -> list[tuple[str, Any]]:
        taken, self.published = self.published, []
        return taken


class Hall:
    def __init__(self, client: TestClient, sessions: sessionmaker[Session], feed: RecordingFeed,
                 tokens: dict[str, str], clock: dict[str, Any]) -> None:
        self.client, self.sessions, self.feed, self.tokens, self.clock = client, sessions, feed, tokens, clock

    def post(self, path: str, body: dict[str, Any] | None = None, who: str = "甲") -> Any:
        return self.client.post(f"/api{path}", json=body,
                                headers={"Authorization": f"Bearer {self.tokens[who]}"})

    def get(self, path: str) -> Any:
        return self.client.get(f"/api{path}", headers={"Authorization": f"Bearer {self.tokens['甲']}"})


@pytest.fixture
def hall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hall]:
    config = load_config(REPO / "hotline.conf", overrides={"database.url": f"sqlite:///{tmp_path}/t.db"})
    upgrade_database(config)
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        tokens = {name: add_token(session, name, Role.OPERATOR) for name in ("甲", "乙")}
    app = build_app(config, bridge=False)
    feed = RecordingFeed()
    for notifier in (app.state.voicemail_notifier, app.state.callback_notifier):
        monkeypatch.setattr(notifier, "feed", feed)
    clock = {"now": T0}
    setattr(app.state, CLOCK_STATE_KEY, lambda: clock["now"])
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Hall(client, sessions, feed, tokens, clock)
    engine.dispose()


def _needs_review(sessions: sessionmaker[Session]) -> int:
    with session_scope(sessions) as session:
        row = Voicemail(recording_id="r-1", caller_num="13912345678", caller_withheld=False,
                        call_time=T0 - timedelta(hours=9), state=STATE_NEEDS_REVIEW, version=1)
        session.add(row)
        session.flush()
        return row.id


def test_a_screening_decision_is_announced_once_and_a_refused_one_not_at_all(hall: Hall) -> None:
    vid = _needs_review(hall.sessions)
    decide = {"verdict": "valid", "reason": "听过录音", "callback_number": "13912345678"}
    assert hall.post(f"/voicemails/{vid}/override", {**decide, "expected_version": 9}).status_code == 409
    assert hall.feed.take() == []  # refused: nothing changed, nothing announced
    assert hall.post(f"/voicemails/{vid}/override", {**decide, "expected_version": 1}).status_code == 200
    assert hall.feed.take() == OVERRIDDEN
    assert hall.post("/voicemails/undo").status_code == 200
    assert hall.feed.take() == OVERRIDDEN
    assert hall.post("/voicemails/undo").status_code == 409  # nothing left to undo
    assert hall.feed.take() == []


def test_callback_changes_are_announced_once_and_refusals_and_reads_not(hall: Hall) -> None:
    [callback_id] = add_valid(hall.sessions, 1)
    assert hall.get("/callbacks").status_code == 200
    assert hall.feed.take() == []
    assert hall.post(f"/callbacks/{callback_id}/claim").status_code == 200
    assert hall.feed.take() == CHANGED
    assert hall.post(f"/callbacks/{callback_id}/claim", who="乙").status_code == 409
    assert hall.post(f"/callbacks/{callback_id}/release", who="乙").status_code == 403
    assert hall.feed.take() == []
    assert hall.post(f"/callbacks/{callback_id}/release").status_code == 200
    assert hall.feed.take() == CHANGED


def test_a_read_that_expires_a_claim_announces_it(hall: Hall) -> None:
    """The URL middleware only looked at changing methods, so this one went unannounced."""
    [callback_id] = add_valid(hall.sessions, 1)
    assert hall.post(f"/callbacks/{callback_id}/claim").status_code == 200
    hall.feed.take()
    hall.clock["now"] = T0 + timedelta(hours=5)  # long past the claim's expiry
    assert hall.get("/callbacks").json()[0]["state"] == "queued"
    assert hall.feed.take() == EXPIRED
    assert hall.get("/callbacks").status_code == 200
    assert hall.feed.take() == []


async def test_the_ingest_worker_announces_a_pass_that_registered_and_wakes_triage(
        tmp_path: Path, db_sessions: sessionmaker[Session]) -> None:
    settings = IngestSettings(spool=tmp_path / "spool", archive=tmp_path / "archive", max_message_s=120)
    feed, woken = RecordingFeed(), []
    notifier = LiveVoicemailNotifier(feed, on_registered=lambda: woken.append(1))
    worker = VoicemailIngestWorker(settings, db_sessions, notifier=notifier)
    put_message(settings.spool, "1795813129-1")
    await worker.run_once()
    assert feed.take() == [("voicemails", {"reason": "registered"})] and woken == [1]
    await worker.run_once()  # nothing new
    assert feed.take() == [] and woken == [1]


async def test_the_sweeper_announces_expired_claims_once(db_sessions: sessionmaker[Session]) -> None:
    [callback_id] = add_valid(db_sessions, 1)
    config = load_config(REPO / "hotline.conf")
    with session_scope(db_sessions) as session:
        claim(session, callback_id, Actor("甲"), T0, config.callbacks)
    feed = RecordingFeed()
    sweeper = CallbackSweeper(db_sessions, interval=0.01, clock=lambda: T0 + timedelta(hours=5),
                              notifier=LiveCallbackNotifier(feed))
    await sweeper.start(FastAPI())
    try:
        async with asyncio.timeout(5):
            while not feed.published:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.1)  # later sweeps find nothing more to announce
    finally:
        await sweeper.stop()
    assert feed.take() == EXPIRED

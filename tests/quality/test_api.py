"""质检 routes: the day's sample for inspectors, scoring on the configured form, the two tracks
(operators: their own calls only), an operator's scored calls, the weekly summary; bad input gets
the API's error shape and changes nothing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from hotline.api import create_app
from hotline.auth import Role, add_token
from hotline.config import HotlineConfig, load_config
from hotline.config.secrets import write_demo_secrets
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from quality.api import router
from quality.ingest import archive_path, purge_expired
from quality.models import CallRecording, QaReview
from quality.worker import RecordingSettings, run_pass
from tests.quality.test_ingest import NOW, STARTED, put_recording, tracks  # noqa: F401 (fixture)

REPO = Path(__file__).resolve().parents[2]
FLAGGED, PLAIN = "1795813129-0-07", "1795813130-0-03"
SCORES = {"服务态度": 90, "政策解答正确": 80, "语速与清晰度": 50, "规范用语": 100}


@pytest.fixture
def config(tmp_path: Path) -> HotlineConfig:
    shutil.copy(REPO / "hotline.conf", tmp_path / "hotline.conf")
    shutil.copy(REPO / "remit.conf", tmp_path / "remit.conf")
    write_demo_secrets(tmp_path / "hotline.conf")
    config = load_config(tmp_path / "hotline.conf", overrides={
        "database.url": f"sqlite:///{tmp_path}/t.db", "recording.archive": str(tmp_path / "archive"),
        "recording.spool": str(tmp_path / "spool"), "quality.sample_share": "0"})
    upgrade_database(config)
    return config


@pytest.fixture
def client(config: HotlineConfig, tracks: tuple[Path, Path]) -> Iterator[TestClient]:  # noqa: F811
    """Two measured calls of one day: seat 07's is flagged (too fast, by a low limit), 03's is not."""
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    for rid in (FLAGGED, PLAIN):
        put_recording(config.recording.spool, rid, tracks)
    run_pass(RecordingSettings(config.recording.spool, config.recording.archive, 180), sessions, lambda: NOW)
    with session_scope(sessions) as session:
        session.execute(update(CallRecording).where(CallRecording.recording_id == FLAGGED)
                        .values(flags=["too_fast"]))
        session.execute(update(CallRecording).where(CallRecording.recording_id == PLAIN).values(flags=[]))
    app = create_app(config, extra_routers=[router])
    app.state.test_sessions = sessions
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    engine.dispose()


def token(client: TestClient, role: Role, name: str) -> dict[str, str]:
    with session_scope(client.app.state.test_sessions) as session:  # type: ignore[attr-defined]
        return {"Authorization": f"Bearer {add_token(session, name, role)}"}


def day(config: HotlineConfig) -> str:
    return datetime.fromtimestamp(STARTED, UTC).astimezone(config.hall.tz).date().isoformat()


def test_inspector_gets_the_flagged_calls_and_scores_one(client: TestClient, config: HotlineConfig) -> None:
    inspector = token(client, Role.INSPECTOR, "质检员王")
    sample = client.get(f"/api/qa/sample?day={day(config)}", headers=inspector).json()
    assert [(s["recording_id"], s["reason"], s["seat_id"]) for s in sample] == [(FLAGGED, "flagged", "07")]
    assert sample[0]["has_audio"] and sample[0]["measures"]["operator_speech_s"] > 0
    assert client.get(f"/api/qa/sample?day={day(config)}", headers=inspector).json() == sample  # drawn once
    review = sample[0]["id"]
    scored = client.post(f"/api/qa/reviews/{review}/score", headers=inspector,
                         json={"scores": SCORES, "comment": " 语速偏快 "}).json()
    assert scored["total"] == pytest.approx((90 * 30 + 80 * 30 + 50 * 20 + 100 * 20) / 100)
    assert (scored["inspector"], scored["comment"]) == ("质检员王", "语速偏快")
    form = client.get("/api/qa/form", headers=inspector).json()
    assert [i["name"] for i in form["items"]] == list(SCORES) and form["item_max"] == 100


def test_bad_scores_are_refused_and_change_nothing(client: TestClient, config: HotlineConfig) -> None:
    inspector = token(client, Role.INSPECTOR, "insp")
    review = client.get(f"/api/qa/sample?day={day(config)}", headers=inspector).json()[0]["id"]
    for body, code in (({"scores": {"服务态度": 90}}, "invalid_scores"),
                       ({"scores": {**SCORES, "服务态度": 120}}, "invalid_scores"),
                       ({"scores": "good"}, "validation_error"),
                       ({"scores": SCORES, "comment": "语速\x00偏快"}, "validation_error")):
        answer = client.post(f"/api/qa/reviews/{review}/score", headers=inspector, json=body)
        assert answer.status_code == 422 and answer.json()["error"]["code"] == code
    assert "未打分" in client.post(f"/api/qa/reviews/{review}/score", headers=inspector,
                                 json={"scores": {"服务态度": 90}}).json()["error"]["message"]
    missing = client.post("/api/qa/reviews/999/score", headers=inspector, json={"scores": SCORES})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "review_not_found"
    for query, code in (("day=2026-02-30", "invalid_date"), ("day=0", "validation_error"),
                        ("day=2026-W49", "validation_error")):
        refused = client.get(f"/api/qa/sample?{query}", headers=inspector)
        assert refused.status_code == 422 and refused.json()["error"]["code"] == code, query
    again = client.get(f"/api/qa/sample?day={day(config)}", headers=inspector).json()[0]
    assert again["total"] is None and again["scores"] is None


def test_roles_tracks_and_an_operators_own_calls(client: TestClient, config: HotlineConfig) -> None:
    inspector = token(client, Role.INSPECTOR, "insp")
    monitor = token(client, Role.MONITOR, "wall")
    assert client.get(f"/api/qa/sample?day={day(config)}", headers=monitor).status_code == 403
    review = client.get(f"/api/qa/sample?day={day(config)}", headers=inspector).json()[0]["id"]
    with session_scope(client.app.state.test_sessions) as session:  # type: ignore[attr-defined]
        row = session.query(CallRecording).filter_by(recording_id=FLAGGED).one()
        files = {"operator": row.operator_file, "citizen": row.citizen_file}
    for track, name in files.items():
        answer = client.get(f"/api/qa/reviews/{review}/audio/{track}", headers=inspector)
        assert answer.status_code == 200
        assert answer.content == archive_path(config.recording.archive, name or "").read_bytes()
    own, other = token(client, Role.OPERATOR, "07"), token(client, Role.OPERATOR, "03")
    assert client.get(f"/api/qa/reviews/{review}/audio/operator", headers=own).status_code == 200
    refused = client.get(f"/api/qa/reviews/{review}/audio/operator", headers=other)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_your_call"
    assert client.get(f"/api/qa/reviews/{review}/audio/mixed", headers=inspector).status_code == 422
    assert client.get("/api/qa/mine", headers=own).json() == []
    client.post(f"/api/qa/reviews/{review}/score", headers=inspector, json={"scores": SCORES})
    assert [r["id"] for r in client.get("/api/qa/mine", headers=own).json()] == [review]
    assert client.get("/api/qa/mine", headers=other).json() == []
    week = client.get(f"/api/qa/summary?from={day(config)}&to={day(config)}", headers=monitor).json()
    assert week == [{"seat_id": "07", "week": "2026-W48", "scored": 1, "mean_score": 81.0}]
    bad = client.get(f"/api/qa/summary?from={day(config)}&to=2026-01-01", headers=monitor)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_range"
    purge_expired(config.recording.archive, client.app.state.test_sessions, 1,  # type: ignore[attr-defined]
                  datetime.now(UTC).replace(year=2030))
    gone = client.get(f"/api/qa/reviews/{review}/audio/citizen", headers=inspector)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "audio_deleted"


def test_every_sampled_call_when_the_share_is_one(tmp_path: Path, config: HotlineConfig,
                                                 client: TestClient) -> None:
    client.app.state.config = load_config(config.path, overrides={  # type: ignore[attr-defined]
        "database.url": config.database.url, "recording.archive": str(config.recording.archive),
        "quality.sample_share": "1"})
    inspector = token(client, Role.INSPECTOR, "insp")
    sample = client.get(f"/api/qa/sample?day={day(config)}", headers=inspector).json()
    assert sorted((s["recording_id"], s["reason"]) for s in sample) == [(FLAGGED, "flagged"),
                                                                        (PLAIN, "random")]


def test_an_unusable_form_in_the_configuration_is_named(client: TestClient, config: HotlineConfig) -> None:
    client.app.state.config = load_config(config.path, overrides={  # type: ignore[attr-defined]
        "database.url": config.database.url, "quality.form": "服务态度"})
    answer = client.get("/api/qa/form", headers=token(client, Role.INSPECTOR, "insp"))
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "form_misconfigured"
    assert "名称:正数权重" in answer.json()["error"]["message"]


def test_the_own_seat_rule_is_the_one_every_route_uses(client: TestClient, config: HotlineConfig) -> None:
    """Issue 13: a seat is acted for by the token bound to it or a declared team lead, nothing
    else. The 质检 routes compared `review.seat_id != principal.seat` themselves, so a token bound
    to no seat heard, and listed as its own, every call whose recording named no seat."""
    inspector = token(client, Role.INSPECTOR, "insp")
    review = client.get(f"/api/qa/sample?day={day(config)}", headers=inspector).json()[0]["id"]
    client.post(f"/api/qa/reviews/{review}/score", headers=inspector, json={"scores": SCORES})
    with session_scope(client.app.state.test_sessions) as session:  # type: ignore[attr-defined]
        session.execute(update(QaReview).where(QaReview.id == review).values(seat_id=None))
        lead = {"Authorization": f"Bearer {add_token(session, 'zuzhang', Role.OPERATOR, team_lead=True)}"}
    unbound = token(client, Role.OPERATOR, "zhang.wei")
    refused = client.get(f"/api/qa/reviews/{review}/audio/operator", headers=unbound)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_your_call"
    assert client.get("/api/qa/mine", headers=unbound).json() == []
    assert client.get(f"/api/qa/reviews/{review}/audio/operator", headers=lead).status_code == 200

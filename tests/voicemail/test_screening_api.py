"""The screening desk's API: decisions with number, department and urgency, duplicates of the same
caller's messages, version checks, batch confirmation of machine verdicts, undo, and the audit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hotline.auth import Role, add_token
from hotline.config import load_config
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from hotline.db.audit import AuditEntry
from hotline.wiring import build_app
from voicemail.models import STATE_INVALID, STATE_NEEDS_REVIEW, STATE_VALID, Voicemail

REPO = Path(__file__).resolve().parents[2]
NIGHT = datetime(2026, 12, 2, 22, 0, tzinfo=UTC)
WITHHELD_REVIEW = [
    {"code": "speech", "detail": "8.0 s in 12.0 s"},
    {"code": "no_callback_number", "detail": "caller id withheld, no number spoken"},
]


class Desk:
    def __init__(self, client: TestClient, sessions: Any, token: str, other: str) -> None:
        self.client, self.sessions, self.token, self.other = client, sessions, token, other

    def post(self, path: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
        return self.client.post(
            f"/api/voicemails{path}", json=body, headers={"Authorization": f"Bearer {token or self.token}"}
        )

    def get(self, path: str) -> Any:
        return self.client.get(f"/api{path}", headers={"Authorization": f"Bearer {self.token}"})

    def add(self, caller: str | None, minutes: int, state: str = STATE_NEEDS_REVIEW, **fields: Any) -> int:
        with session_scope(self.sessions) as session:
            row = Voicemail(
                recording_id=f"r-{minutes}-{caller}",
                caller_num=caller or "",
                caller_withheld=caller is None,
                call_time=NIGHT + timedelta(minutes=minutes),
                state=state,
                version=1,
                triage_reasons=WITHHELD_REVIEW,
                **fields,
            )
            session.add(row)
            session.flush()
            return row.id

    def row(self, voicemail_id: int) -> Voicemail:
        with self.sessions() as session:
            row = session.get(Voicemail, voicemail_id)
            assert row is not None
            return row

    def audits(self) -> list[AuditEntry]:
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.action.like("voicemail.override%"))
                    .order_by(AuditEntry.id)
                )
            )


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    config = load_config(REPO / "hotline.conf", overrides={"database.url": f"sqlite:///{tmp_path}/t.db"})
    upgrade_database(config)
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        token = add_token(session, "筛选员甲", Role.OPERATOR)
        other = add_token(session, "筛选员乙", Role.OPERATOR)
    with TestClient(build_app(config, bridge=False), raise_server_exceptions=False) as client:
        yield Desk(client, sessions, token, other)
    engine.dispose()


def test_valid_with_a_spoken_number_department_and_urgency_reaches_the_callback_queue(desk: Desk) -> None:
    vid = desk.add(None, 1)
    refused = desk.post(f"/{vid}/override", {"verdict": "valid", "reason": "听到号码", "expected_version": 1})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "no_callback_number"
    for bad, code in (
        ({"callback_number": "12345"}, "validation_error"),  # the schema's pattern
        ({"callback_number": "139-1234-5678"}, "validation_error"),  # digits only
        ({"department": "不存在的局"}, "unknown_department"),
        ({"reason": "听到\x00号码"}, "validation_error"),  # a NUL was a 500 on PostgreSQL (issue 13)
    ):
        answer = desk.post(
            f"/{vid}/override",
            {
                "verdict": "valid",
                "reason": "听到号码",
                "expected_version": 1,
                "callback_number": "13912345678",
                **bad,
            },
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == code
    assert desk.row(vid).version == 1 and desk.row(vid).state == STATE_NEEDS_REVIEW  # nothing changed
    done = desk.post(
        f"/{vid}/override",
        {
            "verdict": "valid",
            "reason": "听到号码",
            "expected_version": 1,
            "callback_number": "13912345678",
            "department": "供水集团",
            "urgency": "urgent",
        },
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["voicemail"]["state"] == STATE_VALID and body["voicemail"]["version"] == 2
    assert body["voicemail"]["callback_number"] == "13912345678"
    queue = desk.get("/callbacks").json()
    assert [(c["voicemail_id"], c["number"], c["department"], c["priority"]) for c in queue] == [
        (vid, "13912345678", "供水集团", "urgent")
    ]
    stale = desk.post(
        f"/{vid}/override", {"verdict": "invalid", "reason": "晚了", "expected_version": 1}, token=desk.other
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    [audit] = desk.audits()
    assert audit.actor == "筛选员甲" and audit.at is not None
    assert (
        audit.detail["before"]["state"] == STATE_NEEDS_REVIEW
        and audit.detail["before"]["callback_number"] is None
    )
    assert (
        audit.detail["after"]["callback_number"] == "13912345678"
        and audit.detail["after"]["priority"] == "urgent"
    )


def test_the_stand_ins_words_do_not_reach_the_callback_console(desk: Desk) -> None:
    korean = desk.add("13812345671", 1, transcript="이어 영파 비료 여기 에 다")
    chinese = desk.add("13812345672", 2, transcript="停水三天")
    for vid in (korean, chinese):
        answer = desk.post(f"/{vid}/override",
                           {"verdict": "valid", "reason": "听过录音", "expected_version": 1})
        assert answer.status_code == 200, answer.text
    excerpts = {c["voicemail_id"]: c["transcript_excerpt"] for c in desk.get("/callbacks").json()}
    assert excerpts == {korean: None, chinese: "停水三天"}


def test_duplicate_of_one_of_the_same_callers_recent_messages(desk: Desk) -> None:
    first = desk.add("13812345678", 1)
    again = desk.add("13812345678", 30)
    stranger = desk.add("13700000000", 31)
    recent = desk.get(f"/voicemails/{again}/same-caller").json()["items"]
    assert [m["id"] for m in recent] == [first]
    wrong = desk.post(
        f"/{again}/override", {"verdict": "duplicate", "reason": "重复", "duplicate_of": stranger}
    )
    assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "invalid_duplicate_of"
    done = desk.post(
        f"/{again}/override",
        {"verdict": "duplicate", "reason": "重复", "duplicate_of": first, "expected_version": 1},
    )
    assert done.status_code == 200, done.text
    row = desk.row(again)
    assert row.state == STATE_INVALID and row.duplicate_of == first


def test_a_withheld_caller_without_a_number_is_compared_by_ear_with_the_other_withheld(desk: Desk) -> None:
    """As triage matches them by voice: the screener may name another withheld message left
    without a number as what this one repeats; a withheld caller who spoke a number is matched
    by that number only."""
    earlier = desk.add(None, 1)
    spoke_a_number = desk.add(None, 2, callback_number="13912345678")
    again = desk.add(None, 40)
    recent = desk.get(f"/voicemails/{again}/same-caller").json()["items"]
    assert [m["id"] for m in recent] == [earlier]
    wrong = desk.post(f"/{again}/override", {"verdict": "duplicate", "reason": "重复",
                                              "duplicate_of": spoke_a_number, "expected_version": 1})
    assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "invalid_duplicate_of"
    done = desk.post(f"/{again}/override", {"verdict": "duplicate", "reason": "听声音是同一人",
                                             "duplicate_of": earlier, "expected_version": 1})
    assert done.status_code == 200, done.text
    assert desk.row(again).duplicate_of == earlier


def test_confirm_machine_verdicts_in_one_call_all_or_nothing(desk: Desk) -> None:
    silent = desk.add("13800000001", 1, state=STATE_INVALID)
    tones = desk.add("13800000002", 2, state=STATE_INVALID)
    review = desk.add("13800000003", 3)
    mixed = desk.post("/confirm", {"items": [{"id": silent, "version": 1}, {"id": review, "version": 1}]})
    assert mixed.status_code == 409 and mixed.json()["error"]["code"] == "not_decided"
    assert mixed.json()["error"]["message"] == f"留言 {review} 待人工复核，没有机器判定可确认，请人工判定"
    assert desk.row(silent).version == 1 and desk.row(silent).override_by is None
    done = desk.post("/confirm", {"items": [{"id": silent, "version": 1}, {"id": tones, "version": 1}]})
    assert done.status_code == 200, done.text
    assert [c["voicemail"]["state"] for c in done.json()["confirmed"]] == [STATE_INVALID, STATE_INVALID]
    assert desk.row(tones).override_by == "筛选员甲" and desk.row(tones).override_reason == "抽查确认机器判定"
    assert len(desk.audits()) == 2


def test_undo_puts_back_the_last_decision_and_its_callback(desk: Desk) -> None:
    assert desk.post("/undo").json()["error"]["code"] == "nothing_to_undo"
    vid = desk.add("13812345678", 1)
    kept = desk.add("13812345679", 2)
    desk.post(f"/{kept}/override", {"verdict": "invalid", "reason": "空录音", "expected_version": 1})
    desk.post(
        f"/{vid}/override", {"verdict": "valid", "reason": "燃气", "urgency": "urgent", "expected_version": 1}
    )
    assert [c["voicemail_id"] for c in desk.get("/callbacks").json()] == [vid]
    undone = desk.post("/undo")
    assert undone.status_code == 200, undone.text
    row = desk.row(vid)
    assert row.state == STATE_NEEDS_REVIEW and row.override_by is None and row.priority is None
    assert row.version == 3
    assert desk.get("/callbacks").json() == []  # withdrawn again
    second = desk.post("/undo")  # the decision before that one
    assert second.status_code == 200 and desk.row(kept).state == STATE_NEEDS_REVIEW
    assert desk.post("/undo").json()["error"]["code"] == "nothing_to_undo"
    actions = [(a.action, a.target) for a in desk.audits()]
    assert actions == [
        ("voicemail.override", f"voicemail:{kept}"),
        ("voicemail.override", f"voicemail:{vid}"),
        ("voicemail.override.undo", f"voicemail:{vid}"),
        ("voicemail.override.undo", f"voicemail:{kept}"),
    ]
    redo = desk.post(f"/{vid}/override", {"verdict": "valid", "reason": "燃气", "expected_version": 3})
    assert redo.status_code == 200 and [c["voicemail_id"] for c in desk.get("/callbacks").json()] == [vid]


def test_the_night_in_working_order_with_progress(desk: Desk) -> None:
    from hotline.db.types import utcnow

    now = utcnow()
    with session_scope(desk.sessions) as session:
        made = {}
        for name, state, priority, minutes_ago in (
            ("old_review", STATE_NEEDS_REVIEW, "normal", 300),
            ("urgent_review", STATE_NEEDS_REVIEW, "urgent", 100),
            ("new_review", STATE_NEEDS_REVIEW, "normal", 200),
            ("machine_valid", STATE_VALID, "normal", 250),
            ("machine_invalid", STATE_INVALID, None, 260),
            ("last_week", STATE_INVALID, None, 60 * 24 * 7),
            ("untriaged", "new", None, 10),
        ):
            row = Voicemail(
                recording_id=name,
                caller_num="13812345678",
                call_time=now - timedelta(minutes=minutes_ago),
                state=state,
                priority=priority,
            )
            session.add(row)
            session.flush()
            made[name] = row.id
        # The spool could not read its metadata: no call time, in review with the spool's reason.
        unread = Voicemail(recording_id="no_metadata", state=STATE_NEEDS_REVIEW, registered_at=now,
                           review_reasons=[{"code": "spool", "detail": "元数据文件缺失，请人工核对"}])
        session.add(unread)
        session.flush()
        made["no_metadata"] = unread.id
    body = desk.get("/voicemails/screening").json()
    assert (body["done"], body["total"]) == (0, 6)
    order = {
        g["key"]: [made_name for i in g["items"] for made_name, vid in made.items() if vid == i["id"]]
        for g in body["groups"]
    }
    assert order == {
        "needs_review": ["urgent_review", "old_review", "new_review", "no_metadata"],
        "valid": ["machine_valid"],
        "invalid": ["machine_invalid"],
    }
    assert [g["count"] for g in body["groups"]] == [4, 1, 1]
    [shown] = [i for i in body["groups"][0]["items"] if i["id"] == made["no_metadata"]]
    assert shown["review_reasons"][0]["text_zh"] == "元数据文件缺失，请人工核对"
    desk.post("/confirm", {"items": [{"id": made["machine_invalid"], "version": 0}]})
    assert desk.get("/voicemails/screening").json()["done"] == 1


def test_energy_strip_and_speech_segments(desk: Desk, tmp_path: Path) -> None:
    from tests.voicemail import audio_fixtures as fx

    archive = desk.client.app.state.config.voicemail.archive
    archive.mkdir(parents=True, exist_ok=True)
    fx.write_wav(archive / "strip.wav", fx.silence(1.0) + fx.tones([450], 1.0) + fx.silence(0.5))
    vid = desk.add("13812345678", 5, archive_name="strip.wav", features={"speech_segments": [[1.0, 2.0]]})
    strip = desk.get(f"/voicemails/{vid}/strip").json()
    assert strip["duration_s"] == 2.5 and strip["step_s"] == 0.1 and len(strip["levels_db"]) == 25
    assert strip["levels_db"][0] == -70.0 and strip["levels_db"][15] > -20
    assert strip["speech_segments"] == [[1.0, 2.0]]
    (archive / "not-a-wav.wav").write_bytes(b"ID3\x04 an mp3 saved under the wrong name")
    broken = desk.add("13812345678", 6, archive_name="not-a-wav.wav")
    refused = desk.get(f"/voicemails/{broken}/strip")
    assert refused.status_code == 410 and refused.json()["error"]["code"] == "audio_unreadable"
    message = refused.json()["error"]["message"]  # the screener reads it: Chinese, no path
    assert message == f"留言 {broken} 的录音格式无法识别，不能显示能量条"

"""The triage batch on real audio with the real (Korean) Vosk model, and its resumability.

The Korean stand-in cannot produce Chinese text, so on real speech the honest verdict is
needs-review; valid messages reach the queue through a staff override
or, for the resumability check, through a recognizer that returns a Chinese transcript.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.api import create_app
from hotline.auth import Role, add_token
from hotline.cli import EXIT_OK, main
from hotline.config import HotlineConfig, load_config
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from hotline.db.audit import AuditEntry
from tests.hall_pbx import REPO, write_overrides
from tests.voicemail import audio_fixtures as fx
from voicemail.api import router as voicemail_router
from voicemail.audio_analysis import Pcm
from voicemail.callbacks.models import Callback
from voicemail.models import STATE_INVALID, STATE_NEEDS_REVIEW, STATE_NEW, STATE_VALID, Voicemail
from voicemail.transcribe import TranscriberPool, Transcript, Word, default_test_model_path
from voicemail.triage_service import triage_pending

NIGHT = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
KILL_MESSAGES = 6
POLL_S = 0.05
KILL_TIMEOUT_S = 60.0


@pytest.fixture(scope="module")
def pool() -> Iterator[TranscriberPool]:
    with TranscriberPool(default_test_model_path(), workers=2) as shared:
        yield shared


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("triage-audio")
    speech = fx.speech_samples(d, fx.PINYIN_SENTENCES[:1], fx.VOICES[:1])
    return {
        "speech": fx.write_wav(d / "speech.wav", fx.silence(0.5) + speech + fx.silence(0.5)),
        "silence": fx.write_wav(d / "silence.wav", fx.silence(6.0)),
    }


def make_hall(tmp_path: Path) -> Path:
    """hotline.conf and its secrets in tmp, with the Korean model as [vosk] model."""
    hall = tmp_path / "hall"
    hall.mkdir()
    shutil.copy(REPO / "hotline.conf", hall / "hotline.conf")
    shutil.copy(REPO / "remit.conf", hall / "remit.conf")
    shutil.copy(REPO / "hotline.secrets", hall / "hotline.secrets")
    write_overrides(hall / "hotline.conf", {
        "database.url": f"sqlite:///{tmp_path}/db/t.db", "voicemail.archive": str(tmp_path / "archive"),
        "vosk.model": str(default_test_model_path())})
    return hall


@dataclass
class Hall:
    conf: Path
    config: HotlineConfig
    sessions: sessionmaker[Session]


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[Hall]:
    conf = make_hall(tmp_path) / "hotline.conf"
    config = load_config(conf)
    upgrade_database(config)
    engine = make_engine(config.database.url)
    yield Hall(conf, config, make_session_factory(engine))
    engine.dispose()


def add_message(hall: Hall, wav: Path, index: int, caller: str | None = None) -> int:
    name = f"m{index}.wav"
    hall.config.voicemail.archive.mkdir(parents=True, exist_ok=True)
    shutil.copy(wav, hall.config.voicemail.archive / name)
    with session_scope(hall.sessions) as session:
        row = Voicemail(recording_id=f"rec-{index}", caller_num=caller or f"1381234{index:04d}",
                        call_time=NIGHT + timedelta(minutes=index), archive_name=name,
                        state=STATE_NEW)
        session.add(row)
        session.flush()
        return row.id


def rows(hall: Hall) -> dict[int, Voicemail]:
    with hall.sessions() as session:
        return {r.id: r for r in session.scalars(select(Voicemail))}


def callbacks_per_voicemail(hall: Hall) -> dict[int, int]:
    with hall.sessions() as session:
        return dict(session.execute(select(Callback.voicemail_id, func.count())
                                    .group_by(Callback.voicemail_id)).all())


def test_silence_is_invalid_and_speech_under_the_korean_model_needs_review(
        hall: Hall, audio: dict[str, Path], pool: TranscriberPool) -> None:
    silent = add_message(hall, audio["silence"], 1)
    spoken = add_message(hall, audio["speech"], 2)
    seen: list[tuple[int, str]] = []
    report = triage_pending(hall.sessions, hall.config, pool,
                            progress=lambda done, total, vid, verdict: seen.append((vid, verdict)))
    assert report.verdicts == {STATE_INVALID: 1, STATE_NEEDS_REVIEW: 1}
    assert seen == [(silent, STATE_INVALID), (spoken, STATE_NEEDS_REVIEW)]
    done = rows(hall)
    assert done[silent].state == STATE_INVALID
    assert [r["code"] for r in done[silent].triage_reasons or []] == ["silence"]
    assert done[silent].transcript is None  # the audio decided: no decoding spent on it
    assert done[silent].explanation_zh and done[silent].triaged_at is not None
    speech = done[spoken]
    assert speech.state == STATE_NEEDS_REVIEW
    assert "transcript_unusable" in [r["code"] for r in speech.triage_reasons or []]
    assert speech.transcript and speech.transcript_words  # Korean words, with times
    assert speech.features and speech.features["speech_s"] > 1.0
    assert speech.callback_number == "13812340002" and speech.triage_attempts == 1
    assert callbacks_per_voicemail(hall) == {}
    again = triage_pending(hall.sessions, hall.config, pool)
    assert again.total == 0 and rows(hall)[spoken].triage_attempts == 1


class ChineseRecognizer:
    """Stands in for a Chinese model: every message says a gas leak and a callback number."""

    workers = 1
    TEXT = "你好我家燃气管道漏气了请尽快派人来看一下"

    def transcribe(self, audio: Pcm, span: tuple[float, float] | None = None) -> Transcript:
        start, end = span or (0.0, audio.duration_s)
        step = (end - start) / len(self.TEXT)
        words = tuple(Word(ch, start + i * step, start + (i + 1) * step, 0.95)
                      for i, ch in enumerate(self.TEXT))
        return Transcript(self.TEXT, words, "zh", end - start)


def test_valid_messages_are_queued_once_even_when_the_batch_dies_after_a_commit(
        hall: Hall, audio: dict[str, Path]) -> None:
    ids = [add_message(hall, audio["speech"], i) for i in range(3)]

    class Died(Exception):
        pass

    def die_after_first(done: int, total: int, vid: int, verdict: str) -> None:
        if done == 1:
            raise Died

    with pytest.raises(Died):
        triage_pending(hall.sessions, hall.config, ChineseRecognizer(), progress=die_after_first)
    first = rows(hall)
    assert [first[i].state for i in ids] == [STATE_VALID, STATE_NEW, STATE_NEW]
    report = triage_pending(hall.sessions, hall.config, ChineseRecognizer())
    assert report.triaged == ids[1:]
    done = rows(hall)
    assert all(done[i].state == STATE_VALID and done[i].priority == "urgent" for i in ids)
    assert done[ids[0]].department == "燃气公司"
    assert done[ids[0]].triaged_at == first[ids[0]].triaged_at  # not decided twice
    assert callbacks_per_voicemail(hall) == dict.fromkeys(ids, 1)


def _triaged(hall: Hall) -> int:
    with hall.sessions() as session:
        return session.scalar(select(func.count()).select_from(Voicemail)
                              .where(Voicemail.triaged_at.is_not(None))) or 0


def test_batch_killed_midway_then_rerun_triages_every_message_exactly_once(
        hall: Hall, audio: dict[str, Path]) -> None:
    ids = [add_message(hall, audio["speech" if i % 2 else "silence"], i)
           for i in range(KILL_MESSAGES)]
    command = [sys.executable, "-m", "hotline.cli", "-c", str(hall.conf), "voicemail", "triage",
               "--workers", "1"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)})
    deadline = time.monotonic() + KILL_TIMEOUT_S
    while _triaged(hall) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(POLL_S)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read() if process.stderr else ""
    before = rows(hall)
    committed = {i for i, r in before.items() if r.triaged_at is not None}
    assert 0 < len(committed) < KILL_MESSAGES

    assert main(["-c", str(hall.conf), "voicemail", "triage", "--workers", "2"]) == EXIT_OK
    after = rows(hall)
    assert all(after[i].state != STATE_NEW and after[i].triaged_at is not None for i in ids)
    for i in committed:  # decided before the kill: left alone by the second run
        assert after[i].triaged_at == before[i].triaged_at
        assert after[i].triage_attempts == before[i].triage_attempts
    assert [after[vid].state for vid in ids] == [
        STATE_NEEDS_REVIEW if index % 2 else STATE_INVALID for index in range(KILL_MESSAGES)]
    assert callbacks_per_voicemail(hall) == {}  # the Korean model never makes a message valid


def test_staff_override_to_valid_queues_one_callback_and_keeps_who_and_why(
        hall: Hall, audio: dict[str, Path], pool: TranscriberPool) -> None:
    spoken = add_message(hall, audio["speech"], 1)
    silent = add_message(hall, audio["silence"], 2)
    triage_pending(hall.sessions, hall.config, pool)
    with session_scope(hall.sessions) as session:
        tokens = {role: add_token(session, f"{role.value}-t", role) for role in Role}
    app = create_app(hall.config, extra_routers=[voicemail_router])
    with TestClient(app, raise_server_exceptions=False) as client:
        def override(vid: int, role: Role, verdict: str, reason: str = "听了录音，是燃气报修"):
            return client.post(f"/api/voicemails/{vid}/override",
                               json={"verdict": verdict, "reason": reason},
                               headers={"Authorization": f"Bearer {tokens[role]}"})

        assert override(spoken, Role.MONITOR, "valid").status_code == 403
        assert override(spoken, Role.OPERATOR, "valid", reason="").status_code == 422
        assert override(spoken, Role.OPERATOR, "maybe").status_code == 422
        assert override(999, Role.OPERATOR, "valid").json()["error"]["code"] == "voicemail_not_found"
        first = override(spoken, Role.OPERATOR, "valid")
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["previous_state"] == STATE_NEEDS_REVIEW and body["callback_id"] is not None
        assert body["voicemail"]["override_by"] == "operator-t"
        again = override(spoken, Role.ADMIN, "valid", reason="复核确认")
        assert again.json()["callback_id"] == body["callback_id"]
        assert override(silent, Role.ADMIN, "invalid", reason="确实是空录音").status_code == 200
    done = rows(hall)
    assert done[spoken].state == STATE_VALID and done[spoken].override_by == "admin-t"
    assert done[spoken].override_reason == "复核确认" and done[spoken].override_at is not None
    assert callbacks_per_voicemail(hall) == {spoken: 1}
    with hall.sessions() as session:
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "voicemail.override")
                                  .order_by(AuditEntry.id)).all()
    assert [(a.actor, a.target, (a.detail or {})["to"]) for a in audited] == [
        ("operator-t", f"voicemail:{spoken}", "valid"), ("admin-t", f"voicemail:{spoken}", "valid"),
        ("admin-t", f"voicemail:{silent}", "invalid")]

"""Ingestion: every recording registered exactly once, nothing released before its row."""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.voicemail.wavs import write_tone
from voicemail import ingest as ingest_module
from voicemail.ingest import IngestSettings, ingest_spool, resolve_archive_path
from voicemail.models import STATE_NEEDS_REVIEW, STATE_NEW, Voicemail


def put_message(spool: Path, rid: str, *, seconds: float = 3.0, ended: bool = True,
                number: str = "13912345678", name: str = "张三丰", audio: bytes | None = None) -> None:
    spool.mkdir(parents=True, exist_ok=True)
    if audio is None:
        write_tone(spool / f"{rid}.wav", seconds)
    else:
        (spool / f"{rid}.wav").write_bytes(audio)
    lines = [f"uniqueid={rid.replace('-', '.')}", f"linkedid={rid.replace('-', '.')}",
             "route=after_hours", f"caller_num={number}", "caller_withheld=0",
             f"caller_name_b64={base64.b64encode(name.encode()).decode()}",
             "call_epoch=1795813129"]
    if ended:
        lines += ["ended=1795813140", "record_status=HANGUP"]
    (spool / f"{rid}.meta").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def settings(tmp_path: Path) -> IngestSettings:
    return IngestSettings(spool=tmp_path / "spool", archive=tmp_path / "archive", max_message_s=120)


def count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Voicemail)) or 0


def test_registers_archives_then_releases(settings: IngestSettings,
                                          db_sessions: sessionmaker[Session]) -> None:
    put_message(settings.spool, "1795813129-24", seconds=10)
    report = ingest_spool(settings, db_sessions)
    assert report.registered == ["1795813129-24"]
    with db_sessions() as session:
        row = session.scalars(select(Voicemail)).one()
    assert row.state == STATE_NEW and row.caller_name == "张三丰" and row.caller_num == "13912345678"
    assert abs(row.duration_s - 10) < 0.01 and row.route == "after_hours"
    archived = resolve_archive_path(settings.archive, row.archive_name or "")
    assert archived.exists() and archived.stat().st_size > 0
    assert list(settings.spool.iterdir()) == []
    assert ingest_spool(settings, db_sessions).registered == []
    assert count(db_sessions) == 1


def test_recording_in_progress_waits(settings: IngestSettings,
                                     db_sessions: sessionmaker[Session]) -> None:
    put_message(settings.spool, "1795813200-1", ended=False)
    assert ingest_spool(settings, db_sessions).waiting == ["1795813200-1"]
    assert count(db_sessions) == 0
    # Asterisk died mid-call: once nothing moved for long enough, the message is taken anyway.
    later = time.time() + settings.max_message_s + ingest_module.STALE_GRACE_S + 5
    assert ingest_spool(settings, db_sessions, clock=lambda: later).registered == ["1795813200-1"]


@pytest.mark.parametrize(("audio", "reason"), [
    (b"", "zero-length file"),
    ("这不是音频".encode(), "not a WAV file"),
])
def test_bad_audio_is_registered_for_review(settings: IngestSettings, db_sessions: sessionmaker[Session],
                                            audio: bytes, reason: str) -> None:
    put_message(settings.spool, "1795813300-2", audio=audio)
    ingest_spool(settings, db_sessions)
    with db_sessions() as session:
        row = session.scalars(select(Voicemail)).one()
    assert row.state == STATE_NEEDS_REVIEW
    assert any(reason in r["detail"] for r in row.review_reasons)
    assert resolve_archive_path(settings.archive, row.archive_name or "").read_bytes() == audio


def test_missing_metadata_is_registered_for_review(settings: IngestSettings,
                                                   db_sessions: sessionmaker[Session]) -> None:
    settings.spool.mkdir(parents=True)
    write_tone(settings.spool / "1795813400-3.wav", 2)
    old = time.time() - 3600
    os.utime(settings.spool / "1795813400-3.wav", (old, old))
    ingest_spool(settings, db_sessions)
    with db_sessions() as session:
        row = session.scalars(select(Voicemail)).one()
    assert row.state == STATE_NEEDS_REVIEW and row.review_reasons[0]["detail"] == "metadata file missing"


def test_crash_before_commit_then_rerun_registers_once(settings: IngestSettings,
                                                       db_sessions: sessionmaker[Session],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    put_message(settings.spool, "1795813500-4")

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(ingest_module, "_build_row", crash)
    with pytest.raises(RuntimeError):
        ingest_spool(settings, db_sessions)
    assert count(db_sessions) == 0
    assert (settings.spool / "1795813500-4.wav").exists(), "spool copy must survive the crash"
    monkeypatch.undo()
    assert ingest_spool(settings, db_sessions).registered == ["1795813500-4"]
    assert count(db_sessions) == 1


def test_crash_after_commit_before_release(settings: IngestSettings, db_sessions: sessionmaker[Session],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    put_message(settings.spool, "1795813600-5")
    monkeypatch.setattr(ingest_module, "_release", lambda _item: (_ for _ in ()).throw(RuntimeError("kill")))
    with pytest.raises(RuntimeError):
        ingest_spool(settings, db_sessions)
    assert count(db_sessions) == 1 and (settings.spool / "1795813600-5.wav").exists()
    monkeypatch.undo()
    report = ingest_spool(settings, db_sessions)
    assert report.released == ["1795813600-5"] and report.registered == []
    assert count(db_sessions) == 1 and not (settings.spool / "1795813600-5.wav").exists()


def test_archive_names_cannot_escape(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        resolve_archive_path(tmp_path, "../../etc/passwd")


@pytest.mark.parametrize("epoch", ["253402300799", "-62135596800", "1e300", "nan"])
def test_an_implausible_call_time_is_a_problem_not_a_date(settings: IngestSettings,
                                                          db_sessions: sessionmaker[Session],
                                                          epoch: str) -> None:
    """Year 9999 parses, but the hall's zone cannot show it: every report would fail with a 500."""
    put_message(settings.spool, "1795813129-31")
    meta = settings.spool / "1795813129-31.meta"
    meta.write_text(meta.read_text(encoding="utf-8").replace("call_epoch=1795813129",
                                                             f"call_epoch={epoch}"), encoding="utf-8")
    assert ingest_spool(settings, db_sessions).registered == ["1795813129-31"]
    with db_sessions() as session:
        row = session.scalars(select(Voicemail)).one()
    assert row.state == STATE_NEEDS_REVIEW
    assert any("malformed call time" in reason["detail"] for reason in row.review_reasons)
    assert row.call_time is None or row.call_time.year < 2100
    if row.call_time is not None:
        row.call_time.astimezone(ZoneInfo("Asia/Shanghai"))  # what every report does with it

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
    (b"", "录音文件为空（0 字节）"),
    ("这不是音频".encode(), "不是 WAV 录音文件"),
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


def test_a_value_postgresql_refuses_is_flagged_and_later_messages_go_through(
        settings: IngestSettings, db_sessions: sessionmaker[Session]) -> None:
    """Issue 13: a 40-digit number or a NUL in the name used to raise DataError on every pass."""
    put_message(settings.spool, "1795813129-1", number="1" * 40)
    put_message(settings.spool, "1795813129-2", name="张\x00三")
    put_message(settings.spool, "1795813129-3")
    report = ingest_spool(settings, db_sessions)
    assert report.registered == ["1795813129-1", "1795813129-2", "1795813129-3"]
    assert report.failed == [] and list(settings.spool.iterdir()) == []
    with db_sessions() as session:
        rows = {r.recording_id: r for r in session.scalars(select(Voicemail))}
    long_number, nul_name, good = (rows[f"1795813129-{n}"] for n in (1, 2, 3))
    assert long_number.caller_num is None and long_number.state == STATE_NEEDS_REVIEW
    assert [r["detail"] for r in long_number.review_reasons] == [
        "来电号码长 40 个字符，超过上限 32，未保存"]
    assert nul_name.caller_name == "张三" and nul_name.state == STATE_NEEDS_REVIEW
    assert [r["detail"] for r in nul_name.review_reasons] == ["来电姓名含空字符（NUL），已删去"]
    assert good.state == STATE_NEW and good.caller_num == "13912345678"


def test_a_row_the_database_still_refuses_is_registered_without_its_metadata(
        settings: IngestSettings, db_sessions: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Belt and braces: should a rule be missing, the message is kept for review, not retried forever."""
    monkeypatch.setattr(ingest_module, "fit_row", lambda row: [])
    put_message(settings.spool, "1795813129-1", number="1" * 40)
    put_message(settings.spool, "1795813129-2")
    report = ingest_spool(settings, db_sessions)
    with db_sessions() as session:
        rows = {r.recording_id: r for r in session.scalars(select(Voicemail))}
    assert report.registered == ["1795813129-1", "1795813129-2"] and len(rows) == 2
    assert rows["1795813129-2"].state == STATE_NEW
    if db_sessions.kw["bind"].dialect.name == "postgresql":
        refused = rows["1795813129-1"]
        assert refused.caller_num is None and refused.state == STATE_NEEDS_REVIEW
        assert refused.archive_name and "人工核对" in refused.review_reasons[0]["detail"]


def test_a_symlink_in_the_spool_is_never_read_archived_or_served(
        settings: IngestSettings, db_sessions: sessionmaker[Session], tmp_path: Path) -> None:
    """Issue 13: a link named like a recording (to the secrets file) was archived 0644."""
    secret = tmp_path / "hotline.secrets"
    secret.write_text("[ami]\nsecret = s3cr3t\n")
    put_message(settings.spool, "1795813129-1")
    (settings.spool / "1795813129-1.wav").unlink()
    (settings.spool / "1795813129-1.wav").symlink_to(secret)
    (settings.spool / "1795813129-2.meta").symlink_to(secret)
    put_message(settings.spool, "1795813129-3")
    os.mkfifo(settings.spool / "1795813129-4.wav")  # a pipe must not block the pass either
    put_message(settings.spool, "1795813129-5", ended=False)
    (settings.spool / "1795813129-5.wav").unlink()
    os.symlink(secret, settings.spool / "1795813129-5.wav")
    report = ingest_spool(settings, db_sessions, clock=lambda: time.time() + 3600)
    assert report.registered == [f"1795813129-{n}" for n in (1, 2, 3, 4, 5)] and report.failed == []
    with db_sessions() as session:
        rows = {r.recording_id: r for r in session.scalars(select(Voicemail))}
    for rid in ("1795813129-1", "1795813129-2", "1795813129-4", "1795813129-5"):
        assert rows[rid].archive_name is None and rows[rid].state == STATE_NEEDS_REVIEW
        assert any("不是普通文件" in r["detail"] for r in rows[rid].review_reasons)
    assert rows["1795813129-1"].caller_num == "13912345678"  # its real metadata was still read
    assert rows["1795813129-3"].archive_name and rows["1795813129-3"].state == STATE_NEW
    archived = [p for p in settings.archive.rglob("*") if p.is_file()]
    assert len(archived) == 1 and b"s3cr3t" not in archived[0].read_bytes()
    assert secret.read_text() == "[ami]\nsecret = s3cr3t\n"  # the link went, never its target
    assert list(settings.spool.iterdir()) == []


def test_the_archive_is_private(settings: IngestSettings, db_sessions: sessionmaker[Session]) -> None:
    put_message(settings.spool, "1795813129-24")
    ingest_spool(settings, db_sessions)
    (archived,) = [p for p in settings.archive.rglob("*") if p.is_file()]
    assert archived.stat().st_mode & 0o777 == 0o600
    folder = archived.parent
    while folder != settings.archive.parent:
        assert folder.stat().st_mode & 0o777 == 0o700, folder
        folder = folder.parent


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
    assert any("来电时间格式错误" in reason["detail"] for reason in row.review_reasons)
    assert row.call_time is None or row.call_time.year < 2100
    if row.call_time is not None:
        row.call_time.astimezone(ZoneInfo("Asia/Shanghai"))  # what every report does with it

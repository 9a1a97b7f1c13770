"""The recording register: spool → private archive → one row, measured; loss-free and idempotent
on SQLite and PostgreSQL, also for calls recorded while the service was down; retention."""

from __future__ import annotations

import os
import stat
import wave
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from quality import ingest as ingest_module
from quality.ingest import archive_path, ingest_recordings, measure_pending, purge_expired
from quality.measures import Limits
from quality.models import CallRecording
from quality.worker import RecordingSettings, run_pass
from tests.quality.synth import Utterance, build_call
from tests.voicemail import audio_fixtures as fx

STARTED = 1795813129
NOW = STARTED + 3600.0



@pytest.fixture(scope="module")
def tracks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An operator and a citizen track of a short call with one talk-over."""
    work = tmp_path_factory.mktemp("tracks")
    call = build_call(work, [Utterance("operator", 0.3, fx.PINYIN_SENTENCES[0]),
                             Utterance("citizen", 4.0, fx.PINYIN_SENTENCES[1])])
    return fx.write_wav(work / "op.wav", call.operator), fx.write_wav(work / "cit.wav", call.citizen)


def recorded_s(track: Path) -> float:
    with wave.open(str(track), "rb") as reader:
        return reader.getnframes() / reader.getframerate()


def put_recording(spool: Path, rid: str, tracks: tuple[Path, Path], *, closed: bool = True,
                  citizen: bool = True) -> None:
    """What the dialplan and MixMonitor leave behind for one answered call."""
    spool.mkdir(parents=True, exist_ok=True)
    (spool / f"{rid}-operator.wav").write_bytes(tracks[0].read_bytes())
    if citizen:
        (spool / f"{rid}-citizen.wav").write_bytes(tracks[1].read_bytes())
    seat = rid.rsplit("-", 1)[1]
    (spool / f"{rid}.meta").write_text(
        f"recording_id={rid}\nlinkedid={rid.rsplit('-', 1)[0].replace('-', '.', 1)}\nuniqueid=1.3\n"
        f"seat={seat}\nstarted={STARTED}\noperator_file={rid}-operator.wav\n"
        f"citizen_file={rid}-citizen.wav\nended={STARTED + recorded_s(tracks[0]):.6f}\n", encoding="utf-8")
    if closed:
        (spool / f"{rid}.closed").touch()


def rows(sessions: sessionmaker[Session]) -> list[CallRecording]:
    with sessions() as session:
        return list(session.scalars(select(CallRecording).order_by(CallRecording.id)))


def test_registered_once_privately_then_measured(tmp_path: Path, tracks: tuple[Path, Path],
                                                  sessions: sessionmaker[Session]) -> None:
    spool, archive = tmp_path / "spool", tmp_path / "archive"
    put_recording(spool, "1795813129-0-07", tracks)
    report = ingest_recordings(spool, archive, sessions, clock=lambda: NOW)
    assert report.registered == ["1795813129-0-07"] and list(spool.iterdir()) == []
    (row,) = rows(sessions)
    assert (row.seat_id, row.linkedid, row.problems) == ("07", "1795813129.0", [])
    assert row.started_at == datetime.fromtimestamp(STARTED, UTC) and row.measures is None
    for name, source in ((row.operator_file, tracks[0]), (row.citizen_file, tracks[1])):
        path = archive_path(archive, name or "")
        assert path.read_bytes() == source.read_bytes()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(archive.stat().st_mode) == 0o700
    put_recording(spool, "1795813129-0-07", tracks)  # Asterisk's files seen again: released only
    again = ingest_recordings(spool, archive, sessions, clock=lambda: NOW)
    assert (again.registered, again.released) == ([], ["1795813129-0-07"]) and len(rows(sessions)) == 1
    assert measure_pending(archive, sessions, Limits()) == 1
    assert measure_pending(archive, sessions, Limits()) == 0
    (row,) = rows(sessions)
    assert row.measures is not None and row.measures["operator_speech_s"] > 2
    assert row.measures["citizen_speech_s"] > 2 and row.measured_at is not None
    phrases = row.measures["phrases"]
    assert phrases["opening_phrase"] is None and "未检测" in phrases["skipped"]


def test_recorded_while_the_service_was_down(tmp_path: Path, tracks: tuple[Path, Path],
                                            sessions: sessionmaker[Session]) -> None:
    """A night of calls waits in the spool; the first pass registers every one, once."""
    spool, archive = tmp_path / "spool", tmp_path / "archive"
    ids = [f"17958131{n:02d}-0-0{n % 9 + 1}" for n in range(5)]
    for rid in ids:
        put_recording(spool, rid, tracks)
    settings = RecordingSettings(spool, archive, retention_days=180)
    assert sorted(run_pass(settings, sessions, clock=lambda: NOW).registered) == sorted(ids)
    assert run_pass(settings, sessions, clock=lambda: NOW).registered == []
    assert sorted(r.recording_id for r in rows(sessions)) == sorted(ids)
    assert all(r.measures is not None for r in rows(sessions))


def test_waits_for_mixmonitor_unless_the_files_went_stale(tmp_path: Path, tracks: tuple[Path, Path],
                                                        sessions: sessionmaker[Session]) -> None:
    spool, archive = tmp_path / "spool", tmp_path / "archive"
    put_recording(spool, "1795813129-0-03", tracks, closed=False, citizen=False)
    fresh = max(p.stat().st_mtime for p in spool.iterdir())
    assert ingest_recordings(spool, archive, sessions, clock=lambda: fresh + 5).waiting == ["1795813129-0-03"]
    stale = fresh + ingest_module.STALE_GRACE_S + 1
    assert ingest_recordings(spool, archive, sessions, clock=lambda: stale).registered == ["1795813129-0-03"]
    (row,) = rows(sessions)
    assert row.problems == ["citizen track missing"] and row.citizen_file is None
    measure_pending(archive, sessions, Limits())
    (row,) = rows(sessions)
    assert row.flags == ["unmeasured"] and row.measures["error"] == "缺少一条音轨"


def test_crash_between_archive_and_row_is_repaired(tmp_path: Path, tracks: tuple[Path, Path],
                                                   sessions: sessionmaker[Session],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spool, archive = tmp_path / "spool", tmp_path / "archive"
    put_recording(spool, "1795813129-0-11", tracks)

    def crash(*_args: object) -> None:
        raise OSError("power cut")

    original = Session.add
    monkeypatch.setattr(Session, "add", crash)
    with pytest.raises(OSError):
        ingest_module.ingest_entry(ingest_module.scan_recordings(spool)[0], archive, sessions, NOW)
    monkeypatch.setattr(Session, "add", original)
    assert len(list(spool.iterdir())) == 4 and rows(sessions) == []  # nothing released without a row
    assert ingest_recordings(spool, archive, sessions, clock=lambda: NOW).registered == ["1795813129-0-11"]
    assert len(rows(sessions)) == 1 and list(spool.iterdir()) == []


def test_retention_deletes_audio_and_keeps_the_measures(tmp_path: Path, tracks: tuple[Path, Path],
                                                        sessions: sessionmaker[Session]) -> None:
    spool, archive = tmp_path / "spool", tmp_path / "archive"
    put_recording(spool, "1795813129-0-09", tracks)
    settings = RecordingSettings(spool, archive, retention_days=30)
    run_pass(settings, sessions, clock=lambda: NOW)
    (row,) = rows(sessions)
    files = [archive_path(archive, row.operator_file or ""), archive_path(archive, row.citizen_file or "")]
    registered = row.registered_at
    assert purge_expired(archive, sessions, 30, registered + timedelta(days=29)) == 0
    assert all(f.exists() for f in files)
    assert purge_expired(archive, sessions, 30, registered + timedelta(days=31)) == 1
    (row,) = rows(sessions)
    assert not any(f.exists() for f in files) and row.operator_file is None and row.deleted_at is not None
    assert row.measures is not None
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(CallRecording)) == 1


def test_unsafe_names_in_the_spool_are_left_alone(tmp_path: Path, tracks: tuple[Path, Path],
                                                  sessions: sessionmaker[Session]) -> None:
    spool, archive = tmp_path / "spool", tmp_path / "archive"
    spool.mkdir()
    odd = spool / "x y;rm.meta"
    odd.write_text("seat=01\n")
    os.utime(odd, (0, 0))
    assert ingest_recordings(spool, archive, sessions, clock=lambda: NOW).registered == []
    assert odd.exists()


def test_a_link_in_the_spool_is_never_read_nor_archived(tmp_path: Path, tracks: tuple[Path, Path],
                                                        sessions: sessionmaker[Session]) -> None:
    """A symlink named like a track (to the secrets file, say) would be archived and served back
    through /api/qa/reviews/{id}/audio: it is refused and removed, its target left untouched."""
    spool, archive = tmp_path / "spool", tmp_path / "archive"
    secret = tmp_path / "hotline.secrets"
    secret.write_text("[ami]\nsecret = s3cr3t-value\n", encoding="utf-8")
    put_recording(spool, "1795813129-0-07", tracks)
    (spool / "1795813129-0-07-citizen.wav").unlink()
    (spool / "1795813129-0-07-citizen.wav").symlink_to(secret)
    (spool / "1795813129-0-09.meta").symlink_to(secret)
    os.utime(spool / "1795813129-0-09.meta", (0, 0), follow_symlinks=False)

    report = ingest_recordings(spool, archive, sessions, clock=lambda: NOW)

    assert report.registered == ["1795813129-0-07", "1795813129-0-09"]
    linked, alone = rows(sessions)
    assert linked.citizen_file is None and linked.operator_file is not None
    assert any("符号链接" in problem for problem in linked.problems)
    assert alone.operator_file is None and alone.citizen_file is None and alone.linkedid is None
    assert all(b"s3cr3t" not in path.read_bytes() for path in archive.rglob("*") if path.is_file())
    assert list(spool.iterdir()) == [] and "s3cr3t-value" in secret.read_text(encoding="utf-8")


@pytest.mark.parametrize("epoch", ["253402300799", "-62135596800", "1e300", "nan"])
def test_an_implausible_start_time_is_a_problem_not_a_date(tmp_path: Path, tracks: tuple[Path, Path],
                                                           sessions: sessionmaker[Session],
                                                           epoch: str) -> None:
    """Year 9999 parses, but the hall's zone cannot show it (OverflowError in every page)."""
    spool, archive = tmp_path / "spool", tmp_path / "archive"
    put_recording(spool, "1795813129-0-07", tracks)
    meta = spool / "1795813129-0-07.meta"
    meta.write_text(meta.read_text(encoding="utf-8").replace(f"started={STARTED}", f"started={epoch}"),
                    encoding="utf-8")
    assert ingest_recordings(spool, archive, sessions, clock=lambda: NOW).registered == [
        "1795813129-0-07"]
    (row,) = rows(sessions)
    assert row.started_at is None and "malformed started time" in " ".join(row.problems)


def test_one_unstorable_recording_does_not_stop_the_others(tmp_path: Path, tracks: tuple[Path, Path],
                                                           sessions: sessionmaker[Session]) -> None:
    """On PostgreSQL a linkedid longer than its column or with a NUL raised DataError, and the
    pass stopped at that entry on every run: no later recording was registered."""
    spool, archive = tmp_path / "spool", tmp_path / "archive"
    for rid in ("1795813129-0-07", "1795813129-1-08", "1795813129-2-09"):
        put_recording(spool, rid, tracks)
    for rid, linkedid in (("1795813129-0-07", "9" * 200), ("1795813129-1-08", "1795813129.1\x00x")):
        meta = spool / f"{rid}.meta"
        text = meta.read_text(encoding="utf-8")
        meta.write_text(text.replace(text.split("linkedid=")[1].split("\n")[0], linkedid),
                        encoding="utf-8")

    report = ingest_recordings(spool, archive, sessions, clock=lambda: NOW)

    assert report.registered == ["1795813129-0-07", "1795813129-1-08", "1795813129-2-09"]
    assert report.failed == [] and list(spool.iterdir()) == []
    long_id, nul_id, plain = rows(sessions)
    assert long_id.linkedid is None and any("超过上限" in p for p in long_id.problems)
    assert nul_id.linkedid == "1795813129.1x" and any("NUL" in p for p in nul_id.problems)
    assert plain.problems == []

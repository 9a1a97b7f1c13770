"""Recording spool → private archive → one register row → release the spool copy; then measure,
and delete recordings past their retention. Every step can be repeated after a crash.

Same loss-free order as voicemail ingestion: the archive copies are written atomically under
names derived from the recording id, the row is unique on that id, and the spool files go only
after the row is committed. Archive folders are 0700 and files 0600: they hold citizens' voices.
Spool files are read only as regular files reached without a link (hotline.spoolfiles); a row is
made storable (hotline.db.values) and one the database still refuses fails that entry alone.
"""

from __future__ import annotations

import hashlib
import logging
import os
import wave
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hotline.db.claims import item_claim
from hotline.db.values import fit_row
from hotline.spoolfiles import open_regular
from quality.hold import HoldSnapshot
from quality.measures import Limits, measure_call
from quality.models import CallRecording
from quality.phrases import CHECKS_SKIPPED, PhraseChecks, Transcription, check_phrases
from quality.spool import NOT_REGULAR_ZH, RecordingMeta, SpoolEntry, parse_recording_meta, scan_recordings
from quality.track import Track, analyze_track
from quality.wav import RecordingError, read_mono

log = logging.getLogger(__name__)

# Files unchanged this long without MixMonitor's ".closed" mark: Asterisk stopped mid-call.
STALE_GRACE_S = 600.0
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
NO_HOLDS = HoldSnapshot()  # the CLI and tests: no AMI watched, hold time unknown
NO_TRANSCRIPTION = Transcription()
CLAIM_NAMESPACE = "recording-spool"
PHRASES_CLAIM_NAMESPACE = "recording-phrases"


@dataclass
class IngestReport:
    registered: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    transcribed: int = 0  # recordings whose phrase checks this pass took


def _private_dirs(root: Path, target: Path) -> None:
    """Create target's folders below root (and root) as 0700, whatever the umask."""
    root.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    root.chmod(PRIVATE_DIR)
    for folder in reversed(target.relative_to(root).parents[:-1]):
        (root / folder).mkdir(exist_ok=True, mode=PRIVATE_DIR)
        (root / folder).chmod(PRIVATE_DIR)


def archive_path(archive: Path, name: str) -> Path:
    """A stored archive name as a file, refusing anything that escapes the archive."""
    root = archive.resolve()
    path = (root / name).resolve()
    if root not in path.parents:
        raise ValueError(f"archive name {name!r} escapes the archive")
    return path


def _archive_copy(source: Path, archive: Path, name: str) -> str:
    """Copy a regular spool file (no link followed) atomically into the archive as a private
    file, hashing what it copies; returns the copy's sha256."""
    target = archive_path(archive, name)
    _private_dirs(archive.resolve(), target)
    partial = target.with_name(f".{target.name}.partial")
    digest = hashlib.sha256()
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    with os.fdopen(open_regular(source), "rb") as src, \
            os.fdopen(os.open(partial, flags, PRIVATE_FILE), "wb") as out:
        os.fchmod(out.fileno(), PRIVATE_FILE)
        while chunk := src.read(1 << 16):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(target)
    return digest.hexdigest()


def _read_meta(entry: SpoolEntry) -> RecordingMeta:
    if entry.meta is None:
        return RecordingMeta(problems=("metadata file missing",))
    try:
        with os.fdopen(open_regular(entry.meta), "rb") as handle:
            return parse_recording_meta(handle.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return RecordingMeta(problems=(f"metadata unreadable: {exc}",))


def _seconds(path: Path) -> float:
    try:
        with wave.open(str(path), "rb") as reader:
            return reader.getnframes() / reader.getframerate()
    except (OSError, wave.Error, EOFError, ZeroDivisionError):
        return 0.0


def _register(entry: SpoolEntry, meta: RecordingMeta, archive: Path, fallback: datetime) -> CallRecording:
    """Archive both tracks and build the row (not yet stored)."""
    problems = list(meta.problems) + ([NOT_REGULAR_ZH] if entry.refused else [])
    day = f"{(meta.started_at or fallback).astimezone(UTC):%Y/%m/%d}"
    row = CallRecording(recording_id=entry.recording_id, linkedid=meta.linkedid, seat_id=meta.seat_id,
                        started_at=meta.started_at, ended_at=meta.ended_at, duration_s=0.0)
    for party in ("operator", "citizen"):
        source: Path | None = getattr(entry, party)
        if source is None:
            problems.append(f"{party} track missing")
            continue
        name = f"{day}/{source.name}"
        setattr(row, f"{party}_sha256", _archive_copy(source, archive, name))
        setattr(row, f"{party}_file", name)
        row.duration_s = max(row.duration_s, round(_seconds(archive_path(archive, name)), 3))
    row.problems = problems + fit_row(row)  # what PostgreSQL would refuse, made storable
    return row


def ingest_entry(entry: SpoolEntry, archive: Path, sessions: sessionmaker[Session], now: float) -> str:
    """One spool entry: 'registered', 'released' (already registered) or 'waiting'."""
    if entry.closed is None and now - entry.newest_mtime() <= STALE_GRACE_S:
        return "waiting"
    with sessions() as session:
        known = session.scalar(select(CallRecording.id).where(
            CallRecording.recording_id == entry.recording_id))
    if known is None:
        row = _register(entry, _read_meta(entry), archive, datetime.fromtimestamp(now, UTC))
        try:
            with sessions() as session, session.begin():
                session.add(row)
        except IntegrityError:
            log.info("recording %s was registered concurrently", entry.recording_id)
    for path in entry.files():
        path.unlink(missing_ok=True)
    return "registered" if known is None else "released"


def ingest_recordings(spool: Path, archive: Path, sessions: sessionmaker[Session],
                      clock: Callable[[], float]) -> IngestReport:
    """One pass over the spool; safe at any time, any number of times, and on several nodes
    sharing the spool (each entry is claimed: one node handles it)."""
    report = IngestReport()
    now = clock()
    for entry in scan_recordings(spool):
        try:
            with item_claim(sessions, CLAIM_NAMESPACE, entry.recording_id) as mine:
                # Another node holds it, or finished it after this pass listed the spool.
                if not mine or not any(path.exists() for path in entry.files()):
                    continue
                outcome = ingest_entry(entry, archive, sessions, now)
        except (OSError, SQLAlchemyError) as exc:  # this entry only: the pass goes on
            log.error("recording %s not ingested yet: %s", entry.recording_id, exc)
            report.failed.append(entry.recording_id)
            continue
        getattr(report, outcome).append(entry.recording_id)
    return report


def _segments(track: Track) -> list[list[float]]:
    return [[a, b] for a, b in track.segments]


def measure_row(row: CallRecording, archive: Path, limits: Limits, holds: HoldSnapshot = NO_HOLDS,
                transcription: Transcription = NO_TRANSCRIPTION) -> None:
    """Take the automatic measures of one registered recording (errors are stored, not raised).

    Kept with them: each track's speech segments (the page's timeline), whether the service saw the
    whole call's holds, and the phrase checks — pending when a Chinese transcriber will follow."""
    try:
        if row.operator_file is None or row.citizen_file is None:
            raise RecordingError("缺少一条音轨")
        tracks = [analyze_track(read_mono(archive_path(archive, name)))
                  for name in (row.operator_file, row.citizen_file)]
        started = row.started_at.timestamp() if row.started_at else None
        ended = row.ended_at.timestamp() if row.ended_at else None
        hold, lengths, observed = holds.for_call(row.linkedid, started, max(t.duration_s for t in tracks),
                                                 ended)
        measures = measure_call(tracks[0], tracks[1], hold, limits, lengths)
        phrases = PhraseChecks(pending=True) if transcription.transcribe else PhraseChecks(
            skipped=transcription.skipped)
        row.measures = measures.to_dict() | {
            "hold_observed": observed, "phrases": asdict(phrases),
            "segments": {"operator": _segments(tracks[0]), "citizen": _segments(tracks[1])}}
        row.flags = list(measures.flags)
    except (RecordingError, ValueError, OSError) as exc:
        row.measures, row.flags = {"error": str(exc)}, ["unmeasured"]
    row.measured_at = datetime.now(UTC)


def measure_pending(archive: Path, sessions: sessionmaker[Session], limits: Limits, batch: int = 20,
                    holds: HoldSnapshot = NO_HOLDS, transcription: Transcription = NO_TRANSCRIPTION,
                    ) -> int:
    """Measure registered recordings that have no measures yet; returns how many."""
    with sessions() as session, session.begin():
        rows = session.scalars(select(CallRecording).where(
            CallRecording.measured_at.is_(None), CallRecording.deleted_at.is_(None))
            .order_by(CallRecording.id).limit(batch).with_for_update(skip_locked=True)).all()
        for row in rows:
            measure_row(row, archive, limits, holds, transcription)
        return len(rows)


def check_phrases_of(row: CallRecording, archive: Path, transcribe: Callable[[Path], str]) -> PhraseChecks:
    """Transcribe both tracks and check the phrases; a file the model cannot read says why."""
    try:
        if row.operator_file is None or row.citizen_file is None:
            raise RecordingError("录音已删除")
        texts = [transcribe(archive_path(archive, name)) for name in (row.operator_file, row.citizen_file)]
    except Exception as exc:  # whatever the model raises, the next recording goes on
        log.warning("recording %s not transcribed: %s", row.recording_id, exc)
        return PhraseChecks(skipped=f"语音识别失败（{type(exc).__name__}），{CHECKS_SKIPPED}")
    return check_phrases(texts[0], texts[1], "zh")


def transcribe_pending(archive: Path, sessions: sessionmaker[Session], transcription: Transcription,
                       batch: int = 5) -> int:
    """Phrase checks of measured recordings not yet checked, one row per transaction (a long
    transcription holds no lock on the others); returns how many rows were handled."""
    if transcription.transcribe is None:
        return 0
    with sessions() as session:
        ids = list(session.scalars(select(CallRecording.id).where(
            CallRecording.measured_at.is_not(None), CallRecording.phrases_checked_at.is_(None),
            CallRecording.deleted_at.is_(None), CallRecording.operator_file.is_not(None))
            .order_by(CallRecording.id).limit(batch)))
    for row_id in ids:
        # Several nodes: one transcribes a row (the claim), the others go on to the next.
        with item_claim(sessions, PHRASES_CLAIM_NAMESPACE, str(row_id)) as mine:
            if mine:
                _check_phrases_of_row(row_id, archive, sessions, transcription.transcribe)
    return len(ids)


def _check_phrases_of_row(row_id: int, archive: Path, sessions: sessionmaker[Session],
                          transcribe: Callable[[Path], str]) -> None:
    """Transcribe one row's tracks and store the checks, unless another node already did."""
    with sessions() as session:
        row = session.get(CallRecording, row_id)  # read, then used detached: no lock held
    if row is None or row.phrases_checked_at is not None:
        return
    checks = check_phrases_of(row, archive, transcribe)
    with sessions() as session, session.begin():
        fresh = session.get(CallRecording, row_id)
        if fresh is not None and fresh.measures is not None and "error" not in fresh.measures:
            fresh.measures = {**fresh.measures, "phrases": asdict(checks)}
        if fresh is not None:
            fresh.phrases_checked_at = datetime.now(UTC)


def purge_expired(archive: Path, sessions: sessionmaker[Session], retention_days: int, now: datetime) -> int:
    """Delete the audio of recordings older than the retention period; the row and measures stay."""
    cutoff = now - timedelta(days=retention_days)
    with sessions() as session, session.begin():
        rows = session.scalars(select(CallRecording).where(
            CallRecording.deleted_at.is_(None), CallRecording.registered_at < cutoff,
            (CallRecording.started_at < cutoff) | CallRecording.started_at.is_(None))
            .with_for_update(skip_locked=True)).all()
        for row in rows:
            for name in (row.operator_file, row.citizen_file):
                if name is not None:
                    archive_path(archive, name).unlink(missing_ok=True)
            row.operator_file = row.citizen_file = None
            row.deleted_at = now
        return len(rows)

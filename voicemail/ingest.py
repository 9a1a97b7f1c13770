"""Spool → archive → database row → release the spool copy, in that order, idempotently.

Every step can be repeated after a crash: the archive copy is written atomically under a name
derived from the recording id, the row is unique on that id, and the spool files are removed
only after the row is committed. Running the same pass again repairs any interruption.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hotline.db.claims import item_claim
from hotline.db.values import fit_row
from hotline.spoolfiles import open_regular
from voicemail.models import STATE_NEEDS_REVIEW, STATE_NEW, Voicemail
from voicemail.spool import NOT_REGULAR_ZH, SpoolItem, SpoolMeta, parse_meta, scan_spool
from voicemail.wavinfo import inspect_wav

log = logging.getLogger(__name__)

HASH_CHUNK = 1 << 16
# Recordings are personal data: the archive is the service user's alone.
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
# A recording whose files have not changed for this long past the longest message is complete
# even if its hang-up line never came (Asterisk itself stopped mid-call).
STALE_GRACE_S = 60.0
CLAIM_NAMESPACE = "voicemail-spool"


@dataclass(frozen=True)
class IngestSettings:
    spool: Path
    archive: Path
    max_message_s: float


@dataclass
class IngestReport:
    registered: list[str]
    released: list[str]
    waiting: list[str]
    failed: list[str]


def archive_name_for(recording_id: str, call_time: datetime | None, fallback: datetime) -> str:
    stamp = (call_time or fallback).astimezone(UTC)
    return f"{stamp:%Y/%m/%d}/{recording_id}.wav"


def resolve_archive_path(archive_root: Path, archive_name: str) -> Path:
    """Map a stored archive name to a file, refusing anything that escapes the archive."""
    root = archive_root.resolve()
    path = (root / archive_name).resolve()
    if root not in path.parents:
        raise ValueError(f"archive name {archive_name!r} escapes the archive")
    return path


def _private_dirs(root: Path, target_dir: Path) -> None:
    """Create the archive folders down to `target_dir`, each private (0700), old ones included."""
    folder = root
    for part in ("", *target_dir.relative_to(root).parts):
        folder = folder / part if part else folder
        folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        os.chmod(folder, PRIVATE_DIR)


def _archive_copy(source: Path, target: Path, archive_root: Path) -> str:
    """Copy a regular spool file (no link followed) to a private archive file; its SHA-256."""
    _private_dirs(archive_root.resolve(), target.parent)
    partial = target.with_name(f".{target.name}.partial")
    digest = hashlib.sha256()
    src = os.fdopen(open_regular(source), "rb")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
    with src, os.fdopen(os.open(partial, flags, PRIVATE_FILE), "wb") as dst:
        os.fchmod(dst.fileno(), PRIVATE_FILE)
        while chunk := src.read(HASH_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    partial.replace(target)
    directory = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return digest.hexdigest()


def is_complete(item: SpoolItem, meta: SpoolMeta | None, settings: IngestSettings, now: float) -> bool:
    """Ready when the dialplan wrote its hang-up line, or nothing has moved for too long."""
    if meta is not None and meta.ended:
        return True
    return now - item.newest_mtime() > settings.max_message_s + STALE_GRACE_S


def _read_meta(item: SpoolItem) -> tuple[SpoolMeta | None, list[str]]:
    if item.meta is None:
        return None, ["metadata file missing"]
    try:
        with os.fdopen(open_regular(item.meta), "rb") as handle:
            text = handle.read().decode("utf-8")
    except UnicodeDecodeError:
        return None, ["metadata is not UTF-8"]
    except OSError as exc:
        return None, [f"metadata unreadable: {exc.strerror}"]
    meta = parse_meta(text)
    return meta, list(meta.problems)


def _build_row(item: SpoolItem, meta: SpoolMeta | None, problems: list[str], digest: str | None,
               archive_name: str | None, duration: float) -> Voicemail:
    return Voicemail(
        recording_id=item.recording_id,
        uniqueid=meta.uniqueid if meta else None,
        linkedid=meta.linkedid if meta else None,
        route=meta.route if meta else None,
        caller_num=meta.caller_num if meta else None,
        caller_withheld=meta.caller_withheld if meta else False,
        caller_name=meta.caller_name if meta else None,
        call_time=meta.call_time if meta else None,
        duration_s=round(duration, 3),
        audio_sha256=digest,
        archive_name=archive_name,
        state=STATE_NEEDS_REVIEW if problems else STATE_NEW,
        review_reasons=[{"code": "spool", "detail": p} for p in problems],
    )


def _fitted(row: Voicemail) -> Voicemail:
    """The row made storable (one home for the rules); what had to change sends it to review."""
    reasons = fit_row(row)
    if reasons:
        row.state = STATE_NEEDS_REVIEW
        row.review_reasons = [*row.review_reasons, *({"code": "spool", "detail": r} for r in reasons)]
    return row


def _quarantined(row: Voicemail, exc: DBAPIError) -> Voicemail:
    """What is left of a row the database refused: the recording and why, for a person to check."""
    log.error("voicemail %s: the database refused its metadata (%s); registered without it",
              row.recording_id, type(exc.orig).__name__ if exc.orig else exc)
    return Voicemail(
        recording_id=row.recording_id, duration_s=row.duration_s, audio_sha256=row.audio_sha256,
        archive_name=row.archive_name, call_time=row.call_time, state=STATE_NEEDS_REVIEW,
        review_reasons=[{"code": "spool",
                         "detail": "数据库拒收了这条留言的元数据，只登记了录音，请人工核对"}])


def _insert(row: Voicemail, sessions: sessionmaker[Session]) -> None:
    try:
        with sessions() as session, session.begin():
            session.add(row)
    except IntegrityError:
        log.info("voicemail %s was registered concurrently", row.recording_id)


def _store(row: Voicemail, sessions: sessionmaker[Session]) -> None:
    """Insert the row once; a row the database refuses is stored without its metadata instead."""
    try:
        _insert(row, sessions)
    except OperationalError:
        raise
    except DBAPIError as exc:
        _insert(_quarantined(row, exc), sessions)


def _release(item: SpoolItem) -> None:
    """Remove the spool copy; audio first, metadata last, so a crash leaves a re-runnable pair."""
    for path in (*item.refused, item.audio, item.meta):
        if path is not None:
            path.unlink(missing_ok=True)  # a link itself is removed, never what it points to


def ingest_item(item: SpoolItem, settings: IngestSettings, sessions: sessionmaker[Session],
                now: float, fallback_time: datetime) -> str:
    """Process one spool entry; returns 'registered', 'released' or 'waiting'."""
    meta, problems = _read_meta(item)
    if not is_complete(item, meta, settings, now):
        return "waiting"
    with sessions() as session:
        existing = session.scalar(select(Voicemail).where(Voicemail.recording_id == item.recording_id))
    if existing is not None:
        _release(item)
        return "released"

    digest: str | None = None
    archive_name: str | None = None
    duration = 0.0
    if item.refused:
        problems.append(NOT_REGULAR_ZH)
    if item.audio is None:
        problems.append("没有录音文件（来电人在开始录音前挂机）")
    else:
        archive_name = archive_name_for(item.recording_id, meta.call_time if meta else None,
                                        fallback_time)
        target = resolve_archive_path(settings.archive, archive_name)
        digest = _archive_copy(item.audio, target, settings.archive)
        info = inspect_wav(target)
        duration = info.duration_s
        if info.problem:
            problems.append(info.problem)
    _store(_fitted(_build_row(item, meta, problems, digest, archive_name, duration)), sessions)
    _release(item)
    return "registered"


def _still_spooled(item: SpoolItem) -> bool:
    return any(path is not None and os.path.lexists(path)
               for path in (item.audio, item.meta, *item.refused))


def ingest_spool(settings: IngestSettings, sessions: sessionmaker[Session],
                 clock: Callable[[], float] | None = None) -> IngestReport:
    """One pass over the spool; safe to run at any time, any number of times, and on several nodes
    sharing the spool folder (each entry is claimed: one node handles it)."""
    now = (clock or time.time)()
    report = IngestReport([], [], [], [])
    fallback = datetime.fromtimestamp(now, UTC)
    for item in scan_spool(settings.spool):
        try:
            with item_claim(sessions, CLAIM_NAMESPACE, item.recording_id) as mine:
                # Another node holds it, or finished it after this pass listed the spool.
                if not mine or not _still_spooled(item):
                    continue
                outcome = ingest_item(item, settings, sessions, now, fallback)
        except (OSError, SQLAlchemyError) as exc:
            # One item never holds up the others: it is tried again on the next pass.
            log.error("voicemail %s not ingested yet: %s", item.recording_id, exc)
            report.failed.append(item.recording_id)
            continue
        getattr(report, outcome).append(item.recording_id)
        if outcome == "registered":
            log.info("voicemail %s registered", item.recording_id)
    return report

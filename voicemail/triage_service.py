"""Triage of the registered messages: listen, decide, store, queue — one message, one transaction.

Analysis and transcription of several messages run in parallel (they only read the archive), but
decisions are taken and committed one at a time in arrival order, so a message always sees the
decisions on the caller's earlier messages (duplicates). The decision, the state change, the
duplicates it supersedes and the callback it queues commit together; a process killed midway
leaves the message "new" and the next pass does it again. enqueue_callback is idempotent on the
voicemail, so even a repeated decision never queues a message twice.
"""

from __future__ import annotations

import logging
import math
import socket
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config import HotlineConfig
from hotline.db import session_scope
from hotline.db.types import utcnow
from hotline.db.values import fit_row
from voicemail.audio_analysis import AudioFeatures, AudioFormatError, Pcm, analyze, load_pcm
from voicemail.callbacks.service import enqueue_callback, withdraw_callback
from voicemail.ingest import resolve_archive_path
from voicemail.models import (
    CLAIMANT_MAX,
    STATE_INVALID,
    STATE_NEEDS_REVIEW,
    STATE_NEW,
    STATE_VALID,
    Voicemail,
)
from voicemail.transcribe import Transcript
from voicemail.triage import (
    PriorMessage,
    Reason,
    ReasonCode,
    TriageDecision,
    TriageInput,
    Verdict,
    needs_transcript,
    triage,
)

log = logging.getLogger(__name__)

# A message whose triage crashed this many times goes to a person instead of crashing again.
MAX_TRIAGE_ATTEMPTS = 3
TRIAGE_FAILED = "triage_failed"
TRIAGE_FAILED_ZH = "自动分拣多次失败，请人工听取。"
SUPERSEDED_ZH = "与同一来电人较完整的留言重复，已以该留言为准。"
PREVIOUS_STATES = (STATE_VALID, STATE_INVALID, STATE_NEEDS_REVIEW)

LOCAL_NODE = socket.gethostname()
"""The claimant when none is named (the CLI): the same after a restart, so a pass killed midway
and run again takes up its own claims at once."""
CLAIM_TIME = timedelta(minutes=10)
"""A node that died while triaging a message leaves it to the others after this long."""

Progress = Callable[[int, int, int, str], None]  # done, total, voicemail id, verdict
VERDICT_ZH = {STATE_VALID: "有效", STATE_INVALID: "无效", STATE_NEEDS_REVIEW: "待复核"}


class Recognizer(Protocol):
    """What triage needs of a TranscriberPool (thread-safe, blocking)."""

    workers: int

    def transcribe(self, audio: Pcm, span: tuple[float, float] | None = None) -> Transcript: ...


@dataclass
class TriageReport:
    verdicts: Counter[str] = field(default_factory=Counter)
    triaged: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    # Superseded messages whose callback someone already holds (left to them to close).
    superseded_with_callback: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.triaged)

    def summary(self) -> str:
        """One Chinese line for `hotline voicemail triage` and the worker's log."""
        counts = "、".join(f"{VERDICT_ZH.get(k, k)} {v}" for k, v in sorted(self.verdicts.items()))
        extra = f"；失败 {len(self.failed)} 条" if self.failed else ""
        return f"已分拣 {self.total} 条：{counts or '没有待分拣的留言'}{extra}"


@dataclass(frozen=True)
class _Job:
    voicemail_id: int
    archive_name: str | None
    caller_number: str | None  # None when withheld
    received_at: datetime
    attempts: int


@dataclass(frozen=True)
class _Heard:
    features: AudioFeatures | None
    transcript: Transcript | None


def _claimable(node: str, now: datetime) -> Any:
    """Not being triaged by another node (its claim expired, or it is this node's own)."""
    return or_(Voicemail.claimed_until.is_(None), Voicemail.claimed_until < now,
               Voicemail.claimed_by == node)


def pending_ids(sessions: sessionmaker[Session], limit: int | None = None,
                node: str = LOCAL_NODE) -> list[int]:
    """Messages awaiting triage, oldest first (so duplicates keep their natural order)."""
    with sessions() as session:
        query = (select(Voicemail.id).where(Voicemail.state == STATE_NEW, _claimable(node, utcnow()))
                 .order_by(Voicemail.call_time.is_(None), Voicemail.call_time,
                           Voicemail.registered_at, Voicemail.id))
        if limit is not None:
            query = query.limit(limit)
        return list(session.scalars(query))


def _start_job(sessions: sessionmaker[Session], voicemail_id: int, node: str) -> _Job | None:
    """Claim the message for this node and count the attempt first, so a message that kills the
    process is recognised next time. Several nodes: the row is locked with SKIP LOCKED and the
    claim committed, so no other node starts on it until the claim expires."""
    with session_scope(sessions) as session:
        now = utcnow()
        row = session.scalar(select(Voicemail).where(
            Voicemail.id == voicemail_id, Voicemail.state == STATE_NEW, _claimable(node, now))
            .with_for_update(skip_locked=True))
        if row is None:
            return None
        row.claimed_by, row.claimed_until = node[:CLAIMANT_MAX], now + CLAIM_TIME
        row.triage_attempts = (row.triage_attempts or 0) + 1
        caller = None if row.caller_withheld else row.caller_num
        return _Job(row.id, row.archive_name, caller or None,
                    row.call_time or row.registered_at, row.triage_attempts)


def _listen(config: HotlineConfig, pool: Recognizer | None, job: _Job) -> _Heard:
    """Audio features, and a transcript only when the audio leaves the verdict open."""
    if job.archive_name is None:
        return _Heard(None, None)
    path = resolve_archive_path(config.voicemail.archive, job.archive_name)
    try:
        pcm = load_pcm(path)
        features = analyze(pcm.samples)
    except (OSError, AudioFormatError, EOFError) as exc:
        log.warning("voicemail %s: audio unreadable: %s", job.voicemail_id, exc)
        return _Heard(None, None)
    transcript = None
    if pool is not None and needs_transcript(features, config.triage):
        transcript = pool.transcribe(pcm, features.content_span)
    return _Heard(features, transcript)


UNTRUSTED_TRANSCRIPT = ("no_transcript", "transcript_unusable")
HISTORY_MAX = 200  # withheld messages compared by voice within the window, newest first


def _history(session: Session, job: _Job, config: HotlineConfig) -> list[PriorMessage]:
    """The same caller's triaged messages within the duplicate window; for a withheld caller,
    the other withheld messages (matched by voice, or by the number spoken)."""
    since = job.received_at - config.triage.duplicate_window
    withheld = or_(Voicemail.caller_withheld.is_(True), Voicemail.caller_num.is_(None),
                   Voicemail.caller_num == "")
    same = (withheld if job.caller_number is None else
            or_(Voicemail.caller_num == job.caller_number, Voicemail.callback_number == job.caller_number))
    rows = session.scalars(
        select(Voicemail).where(
            Voicemail.id != job.voicemail_id, Voicemail.state.in_(PREVIOUS_STATES),
            Voicemail.triaged_at.is_not(None), same,
            Voicemail.call_time >= since, Voicemail.call_time <= job.received_at)
        .order_by(Voicemail.call_time.desc()).limit(HISTORY_MAX)).all()
    return [_prior(row) for row in reversed(rows)]


def _prior(row: Voicemail) -> PriorMessage:
    features = row.features or {}
    codes = {r.get("code") for r in row.triage_reasons or []}
    return PriorMessage(
        message_id=str(row.id), callback_number=row.callback_number or row.caller_num or None,
        received_at=row.call_time or row.registered_at,
        speech_s=float(features.get("speech_s") or 0.0),
        transcript_text=row.transcript or "", verdict=row.state,
        duplicate_of=str(row.duplicate_of) if row.duplicate_of is not None else None,
        speech_print=tuple(tuple(frame) for frame in features.get("speech_print") or ()),
        withheld=bool(row.caller_withheld or not row.caller_num),
        transcript_trusted=not codes & set(UNTRUSTED_TRANSCRIPT))


def _finite(value: Any) -> Any:
    """JSON (and PostgreSQL's JSONB) has no infinity: the dBFS of silence becomes null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]  # (speech_print: a list of lists of ints)
    return value


def _reasons_json(reasons: tuple[Reason, ...] | list[Reason]) -> list[dict[str, str]]:
    return [{"code": r.code.value, "detail": r.detail} for r in reasons]


def _store(row: Voicemail, decision: TriageDecision, heard: _Heard, now: datetime) -> None:
    row.state = decision.verdict.value
    row.triage_reasons = _reasons_json(decision.reasons)
    row.explanation_zh = decision.explanation_zh
    row.department = decision.department
    row.priority = decision.priority.value
    row.callback_number = decision.callback_number
    row.duplicate_of = int(decision.duplicate_of) if decision.duplicate_of else None
    row.features = ({k: _finite(v) for k, v in asdict(heard.features).items()}
                    if heard.features is not None else None)
    if heard.transcript is not None:
        row.transcript = heard.transcript.text
        row.transcript_words = [[w.word, w.start, w.end, w.conf] for w in heard.transcript.words]
    row.triaged_at = now
    row.version = (row.version or 0) + 1
    for reason in fit_row(row):  # what PostgreSQL would refuse never fails the whole decision
        log.warning("voicemail %s: %s", row.id, reason)


def _supersede(session: Session, row: Voicemail, older_ids: tuple[str, ...],
               report: TriageReport) -> None:
    """Earlier copies of this fuller message become invalid duplicates linked to it."""
    for older_id in older_ids:
        older = session.get(Voicemail, int(older_id), with_for_update=True)
        if older is None or older.override_by is not None:
            continue  # a staff decision stands
        older.state = STATE_INVALID
        older.duplicate_of = row.id
        older.triage_reasons = [*(older.triage_reasons or []),
                                {"code": ReasonCode.DUPLICATE.value, "detail": f"superseded by {row.id}"}]
        older.explanation_zh = SUPERSEDED_ZH
        older.version = (older.version or 0) + 1  # a screener's view of it is out of date
        report.superseded.append(older.id)
        if not withdraw_callback(session, older.id, reason=f"duplicate of voicemail {row.id}"):
            report.superseded_with_callback.append(older.id)


def _decide_and_commit(sessions: sessionmaker[Session], config: HotlineConfig, job: _Job,
                       heard: _Heard, report: TriageReport) -> str | None:
    """Decision, duplicates and callback in one transaction; None when someone else finished it."""
    with session_scope(sessions) as session:
        row = session.get(Voicemail, job.voicemail_id, with_for_update=True, populate_existing=True)
        if row is None or row.state != STATE_NEW:
            return None
        decision = triage(TriageInput(str(job.voicemail_id), job.received_at), heard.features,
                          heard.transcript, job.caller_number, _history(session, job, config),
                          config.triage, config.remit)
        _store(row, decision, heard, utcnow())
        if decision.verdict == Verdict.VALID and decision.callback_number:
            enqueue_callback(session, row.id, priority=decision.priority.value,
                             department=decision.department, number=decision.callback_number,
                             transcript=row.transcript, reasons=row.triage_reasons)
        elif decision.verdict == Verdict.VALID:
            row.state = STATE_NEEDS_REVIEW  # never reached: triage gives valid only with a number
        _supersede(session, row, decision.supersedes, report)
        return row.state


def _give_up(sessions: sessionmaker[Session], job: _Job) -> str | None:
    """A message that failed too often is handed to a person with the reason."""
    with session_scope(sessions) as session:
        row = session.get(Voicemail, job.voicemail_id, with_for_update=True)
        if row is None or row.state != STATE_NEW:
            return None
        row.state = STATE_NEEDS_REVIEW
        row.triage_reasons = [{"code": TRIAGE_FAILED, "detail": f"{job.attempts} attempts"}]
        row.explanation_zh = TRIAGE_FAILED_ZH
        row.triaged_at = utcnow()
        return row.state


def _prepare(sessions: sessionmaker[Session], config: HotlineConfig, pool: Recognizer | None,
             voicemail_id: int, node: str) -> tuple[_Job, _Heard] | None:
    job = _start_job(sessions, voicemail_id, node)
    if job is None:
        return None
    if job.attempts > MAX_TRIAGE_ATTEMPTS:
        return job, _Heard(None, None)
    return job, _listen(config, pool, job)


def _ahead(executor: ThreadPoolExecutor, ids: list[int], window: int,
           work: Callable[[int], tuple[_Job, _Heard] | None]) -> Iterator[tuple[int, Future]]:
    """Results in input order while up to `window` messages are being listened to."""
    pending: list[tuple[int, Future]] = []
    for voicemail_id in ids:
        pending.append((voicemail_id, executor.submit(work, voicemail_id)))
        if len(pending) >= window:
            yield pending.pop(0)
    yield from pending


def triage_pending(sessions: sessionmaker[Session], config: HotlineConfig, pool: Recognizer | None,
                   *, limit: int | None = None, progress: Progress | None = None,
                   node: str = LOCAL_NODE) -> TriageReport:
    """Triage every message in state "new", oldest first; safe to run again at any time, and on
    several nodes at once (`node` names the claimant: each message is triaged by one of them).

    Without a pool (no model) transcripts are missing and speech goes to needs-review.
    """
    report = TriageReport()
    ids = pending_ids(sessions, limit, node)
    workers = max(1, pool.workers if pool is not None else 1)
    with ThreadPoolExecutor(workers, thread_name_prefix="triage") as executor:
        for done, (voicemail_id, future) in enumerate(
                _ahead(executor, ids, workers * 2,
                       lambda vid: _prepare(sessions, config, pool, vid, node)), start=1):
            verdict = "skipped"
            try:
                prepared = future.result()
                if prepared is not None:
                    job, heard = prepared
                    if job.attempts > MAX_TRIAGE_ATTEMPTS:
                        state = _give_up(sessions, job)
                    else:
                        state = _decide_and_commit(sessions, config, job, heard, report)
                    if state is not None:
                        verdict = state
                        report.verdicts[state] += 1
                        report.triaged.append(voicemail_id)
            except Exception:
                log.exception("voicemail %s: triage failed; it stays new for the next pass",
                              voicemail_id)
                report.failed.append(voicemail_id)
                verdict = "failed"
            if progress is not None:
                progress(done, len(ids), voicemail_id, verdict)
    return report


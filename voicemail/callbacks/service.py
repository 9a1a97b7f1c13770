"""Database operations of the callback queue; the caller's session holds the transaction.

Every change adds its audit entry to the same session, so it is committed with the change or
not at all. Nothing here commits, except enqueue's savepoint; routes and workers commit.
The claim is a conditional UPDATE (... WHERE state='queued') checked by its row count, which
is atomic on SQLite (one writer at a time) and on PostgreSQL; "claim next" on PostgreSQL first
picks its row with SELECT ... FOR UPDATE SKIP LOCKED, so concurrent claimers never queue behind
one another's row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.config.model import CallbacksConfig
from hotline.db.audit import SYSTEM_ACTOR, record_audit
from hotline.db.types import utcnow
from voicemail.callbacks.errors import (
    AlreadyClaimed,
    CallbackClosed,
    CallbackNotFound,
    DepartmentRequired,
    DepartmentUnexpected,
    InvalidCallback,
    InvalidOutcome,
    NotClaimed,
    NotClaimer,
    NotDue,
    UnknownDepartment,
)
from voicemail.callbacks.models import Callback, CallbackAttempt
from voicemail.callbacks.rules import (
    PRIORITY_RANK,
    Outcome,
    Priority,
    Resolution,
    State,
    after_outcome,
    claim_expiry,
    excerpt,
)
from voicemail.errors import VoicemailNotFound
from voicemail.models import Voicemail

CLAIM_CANDIDATES = 20  # rows tried per round by "claim next" on SQLite
CLAIM_ROUNDS = 5  # rounds before concluding that nothing is left to claim
CLAIMS_EXPIRED = "callbacks.claims_expired"
"""Key in `session.info` set when a lazy expiry returned claims to the queue: whoever commits the
session announces it (the routes' unit of work), since reads expire claims too."""



@dataclass(frozen=True)
class Actor:
    """Who acts: the token's name and role (as the audit log records them)."""

    name: str
    role: str | None = None


def _target(callback_id: int) -> str:
    return f"callback:{callback_id}"


def _audit(session: Session, action: str, actor: Actor, callback_id: int,
           detail: dict[str, Any] | None = None) -> None:
    record_audit(session, f"callback.{action}", actor=actor.name, role=actor.role,
                 target=_target(callback_id), detail=detail)


def _reload(session: Session, callback_id: int) -> Callback:
    row = session.get(Callback, callback_id, populate_existing=True)
    assert row is not None
    return row


# ------------------------------------------------------------------------------ enqueue

def enqueue_callback(session: Session, voicemail_id: int, *, priority: str,
                     department: str | None, number: str, transcript: str | None = None,
                     reasons: Sequence[Any] | None = None,
                     now: datetime | None = None) -> Callback:
    """Queue a valid message for a call back; calling it again for the same message returns
    the existing callback unchanged (the triage worker may run twice)."""
    existing = session.scalar(select(Callback).where(Callback.voicemail_id == voicemail_id))
    if existing is not None:
        return existing
    voicemail = session.get(Voicemail, voicemail_id)
    if voicemail is None:
        raise VoicemailNotFound(f"没有编号为 {voicemail_id} 的留言")
    try:
        level = Priority(priority)
    except ValueError:
        raise InvalidCallback(f"未知的紧急程度 {priority!r}，应为 urgent 或 normal") from None
    if not number:
        raise InvalidCallback("回访需要可拨打的号码")
    moment = now or utcnow()
    text = transcript if transcript is not None else getattr(voicemail, "transcript", None)
    row = Callback(
        voicemail_id=voicemail_id, number=number, priority=level.value,
        priority_rank=PRIORITY_RANK[level], department=department,
        transcript_excerpt=excerpt(text),
        reasons=list(reasons) if reasons is not None else list(voicemail.review_reasons or []),
        received_at=voicemail.call_time or voicemail.registered_at, state=State.QUEUED.value,
        due_at=moment, attempts=0, created_at=moment)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # Another worker queued the same message a moment ago: theirs stands.
        found = session.scalar(select(Callback).where(Callback.voicemail_id == voicemail_id))
        if found is None:
            raise
        return found
    _audit(session, "enqueue", Actor(SYSTEM_ACTOR), row.id,
           {"voicemail_id": voicemail_id, "priority": level.value, "department": department})
    return row


# ------------------------------------------------------------------------------ reads

def withdraw_callback(session: Session, voicemail_id: int, *, reason: str,
                      actor: Actor | None = None) -> bool:
    """Take a message's callback out of the queue (a later, fuller duplicate supersedes it, or
    staff judged it invalid). A callback someone already holds is left to them; False then."""
    row = session.scalar(select(Callback).where(Callback.voicemail_id == voicemail_id))
    if row is None or row.state == State.CLOSED:
        return True
    if row.state != State.QUEUED:
        return False
    row.state = State.CLOSED
    row.resolution = Resolution.WITHDRAWN
    _audit(session, "withdraw", actor or Actor(SYSTEM_ACTOR), row.id, {"reason": reason})
    return True


def expire_claims(session: Session, now: datetime) -> list[int]:
    """Return claims left unfinished past their expiry to the queue (lazily, and by the sweep)."""
    stale = session.scalars(select(Callback.id).where(
        Callback.state == State.CLAIMED.value, Callback.claim_expires_at <= now)).all()
    expired: list[int] = []
    for callback_id in stale:
        holder = session.scalar(select(Callback.claimed_by).where(Callback.id == callback_id))
        result = session.execute(
            update(Callback)
            .where(Callback.id == callback_id, Callback.state == State.CLAIMED.value,
                   Callback.claim_expires_at <= now)
            .values(state=State.QUEUED.value, claimed_by=None, claimed_at=None,
                    claim_expires_at=None, dialed_at=None, dialed_seat=None, dial_action_id=None)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            expired.append(callback_id)
            _audit(session, "claim_expired", Actor(SYSTEM_ACTOR), callback_id,
                   {"claimed_by": holder})
    if expired:
        session.info[CLAIMS_EXPIRED] = True
    return expired


def queue(session: Session, now: datetime, *, include_closed: bool = False) -> list[Callback]:
    """Open callbacks by priority, then by the time the message was left."""
    expire_claims(session, now)
    query = select(Callback)
    if not include_closed:
        query = query.where(Callback.state != State.CLOSED.value)
    return list(session.scalars(query.order_by(Callback.priority_rank, Callback.received_at,
                                               Callback.id)))


def get_callback(session: Session, callback_id: int, now: datetime) -> Callback:
    expire_claims(session, now)
    row = session.get(Callback, callback_id)
    if row is None:
        raise CallbackNotFound(f"没有编号为 {callback_id} 的回访")
    return row


def attempts_of(session: Session, callback_id: int) -> list[CallbackAttempt]:
    return list(session.scalars(select(CallbackAttempt)
                                .where(CallbackAttempt.callback_id == callback_id)
                                .order_by(CallbackAttempt.attempt, CallbackAttempt.id)))


# ------------------------------------------------------------------------------ claims

def _take(session: Session, callback_id: int, actor: Actor, now: datetime,
          settings: CallbacksConfig) -> bool:
    """The atomic step: queued and due -> claimed by `actor`, or nothing."""
    result = session.execute(
        update(Callback)
        .where(Callback.id == callback_id, Callback.state == State.QUEUED.value,
               Callback.due_at <= now)
        .values(state=State.CLAIMED.value, claimed_by=actor.name, claimed_at=now,
                claim_expires_at=claim_expiry(now, settings))
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def _claimed(session: Session, callback_id: int, actor: Actor, how: str) -> Callback:
    row = _reload(session, callback_id)
    _audit(session, "claim", actor, callback_id,
           {"how": how, "expires_at": row.claim_expires_at.isoformat()
            if row.claim_expires_at else None})
    return row


def _claimable() -> Any:
    return select(Callback.id).where(Callback.state == State.QUEUED.value) \
        .order_by(Callback.priority_rank, Callback.received_at, Callback.id)


def claim_next(session: Session, actor: Actor, now: datetime,
               settings: CallbacksConfig) -> Callback | None:
    """The most urgent, oldest due callback, claimed for `actor`; None when nothing is due."""
    expire_claims(session, now)
    due = _claimable().where(Callback.due_at <= now)
    if session.get_bind().dialect.name == "postgresql":
        picked = session.scalar(due.limit(1).with_for_update(skip_locked=True))
        if picked is not None and _take(session, picked, actor, now, settings):
            return _claimed(session, picked, actor, "next")
        return None
    for _ in range(CLAIM_ROUNDS):
        candidates = session.scalars(due.limit(CLAIM_CANDIDATES)).all()
        if not candidates:
            return None
        for callback_id in candidates:
            if _take(session, callback_id, actor, now, settings):
                return _claimed(session, callback_id, actor, "next")
    return None


def claim(session: Session, callback_id: int, actor: Actor, now: datetime,
          settings: CallbacksConfig) -> Callback:
    """Claim this one; Conflict when someone holds it, it is closed, or its retry is not due."""
    row = get_callback(session, callback_id, now)
    if _take(session, callback_id, actor, now, settings):
        return _claimed(session, callback_id, actor, "this")
    row = _reload(session, callback_id)
    if row.state == State.CLAIMED.value:
        raise AlreadyClaimed(f"回访 {callback_id} 已被 {row.claimed_by} 领取")
    if row.state == State.CLOSED.value:
        raise CallbackClosed(f"回访 {callback_id} 已结束（{row.resolution}）")
    raise NotDue(f"回访 {callback_id} 等待重拨，{row.due_at.isoformat()} 后才可领取")


def _held(session: Session, callback_id: int, actor: Actor, now: datetime) -> Callback:
    """The callback, provided `actor` holds its claim right now."""
    row = get_callback(session, callback_id, now)
    if row.state != State.CLAIMED.value:
        raise NotClaimed(f"回访 {callback_id} 未被领取（当前为 {row.state}），请先领取")
    if row.claimed_by != actor.name:
        raise NotClaimer(f"回访 {callback_id} 由 {row.claimed_by} 领取，不是 {actor.name}")
    return row


def release(session: Session, callback_id: int, actor: Actor, now: datetime) -> Callback:
    """Give a claim back without an outcome: the callback returns to the queue at once."""
    _held(session, callback_id, actor, now)
    session.execute(update(Callback).where(Callback.id == callback_id)
                    .values(state=State.QUEUED.value, claimed_by=None, claimed_at=None,
                            claim_expires_at=None, dialed_at=None, dialed_seat=None,
                            dial_action_id=None)
                    .execution_options(synchronize_session=False))
    _audit(session, "release", actor, callback_id)
    return _reload(session, callback_id)


def check_can_dial(session: Session, callback_id: int, actor: Actor, now: datetime) -> Callback:
    """Before the Originate: only the claimer dials, and only while the claim holds."""
    return _held(session, callback_id, actor, now)


def record_dial(session: Session, callback_id: int, actor: Actor, seat_id: str,
                action_id: str | None, now: datetime, settings: CallbacksConfig) -> Callback:
    """The Originate was accepted: note it, and give the claim a fresh lease for the call."""
    row = _held(session, callback_id, actor, now)
    row.dialed_at = now
    row.dialed_seat = seat_id
    row.dial_action_id = action_id
    row.claim_expires_at = claim_expiry(now, settings)
    _audit(session, "dial", actor, callback_id, {"seat_id": seat_id, "action_id": action_id})
    session.flush()
    return row


def record_outcome(session: Session, callback_id: int, actor: Actor, outcome: str, now: datetime,
                   settings: CallbacksConfig, *, department: str | None = None,
                   note: str | None = None,
                   departments: Sequence[str] = ()) -> Callback:
    """Write the attempt row, then close the callback or queue its retry."""
    try:
        result = Outcome(outcome)
    except ValueError:
        raise InvalidOutcome(f"未知的回访结果 {outcome!r}，应为 "
                             + "、".join(o.value for o in Outcome) + " 之一") from None
    if result is Outcome.REACHED_TRANSFERRED:
        if not department:
            raise DepartmentRequired("转办（reached_transferred）须指明部门")
        if department not in departments:
            raise UnknownDepartment(f"没有部门 {department!r}；已配置的部门："
                                    + "、".join(departments))
    elif department:
        raise DepartmentUnexpected("只有转办（reached_transferred）才填写部门")
    row = _held(session, callback_id, actor, now)
    made = row.attempts + 1
    session.add(CallbackAttempt(callback_id=callback_id, attempt=made, staff=actor.name,
                                seat_id=row.dialed_seat, outcome=result.value,
                                department=department, note=note, dialed_at=row.dialed_at,
                                recorded_at=now))
    decision = after_outcome(result, made, settings, now)
    row.attempts = made
    row.state = decision.state.value
    row.claimed_by = row.claimed_at = row.claim_expires_at = None
    row.dialed_at = row.dialed_seat = row.dial_action_id = None
    if decision.state is State.CLOSED:
        row.resolution = decision.resolution.value if decision.resolution else None
        row.transferred_to = department
        row.closed_at = now
    else:
        assert decision.due_at is not None
        row.due_at = decision.due_at
    _audit(session, "outcome", actor, callback_id, {
        "outcome": result.value, "attempt": made, "department": department,
        "state": row.state, "resolution": row.resolution,
        "retry_at": decision.due_at.isoformat() if decision.due_at else None})
    session.flush()
    return row


"""Staff decide a message (the screening desk, 筛选台): verdict, number, department, urgency.

Every decision names the version of the message it was made on (optional for the plain override,
always sent by the screening page): the version is raised by a conditional UPDATE before anything
else, so of two screeners deciding one message at once exactly one succeeds (PostgreSQL re-checks
the row after the lock, SQLite serialises writers) and the other gets `version_conflict`. Every
decision is audited with who, when, and the message's fields before and after; `undo_last` puts
back the "before" of the caller's last decision if nobody changed the message since.

A message made valid enters the callback queue in the same transaction (a withdrawn callback is
reopened, a queued one takes the new number, department and urgency); one made invalid or a
duplicate has its queued callback withdrawn.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from hotline.db.audit import AuditEntry, record_audit
from hotline.db.types import utcnow
from voicemail.callbacks.rules import PRIORITY_RANK, Priority, Resolution, State
from voicemail.callbacks.service import Actor, enqueue_callback, withdraw_callback
from voicemail.errors import (
    DuplicateOfRequired,
    InvalidCallbackNumber,
    InvalidDuplicateOf,
    InvalidReason,
    InvalidUrgency,
    InvalidVerdict,
    NoCallbackNumber,
    NotDecided,
    NothingToUndo,
    UnknownDepartment,
    VersionConflict,
    VoicemailNotFound,
)
from voicemail.models import STATE_INVALID, STATE_VALID, STATE_ZH, Voicemail
from voicemail.numbers import normalise_caller
from voicemail.triage import han_count

VERDICT_DUPLICATE = "duplicate"
OVERRIDE_VERDICTS = (STATE_VALID, STATE_INVALID, VERDICT_DUPLICATE)
URGENCIES = tuple(p.value for p in Priority)
DEFAULT_PRIORITY = "normal"
REASON_MAX = 500
AUDIT_DECIDE = "voicemail.override"
AUDIT_UNDO = "voicemail.override.undo"
SNAPSHOT_FIELDS = ("state", "callback_number", "department", "priority", "duplicate_of",
                   "override_by", "override_reason", "version")


@dataclass(frozen=True)
class Decision:
    """What a screener decided; None fields keep the message's (machine) values."""

    verdict: str
    reason: str
    callback_number: str | None = None
    department: str | None = None
    urgency: str | None = None
    duplicate_of: int | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class OverrideResult:
    voicemail_id: int
    previous: str
    verdict: str
    callback_id: int | None
    version: int
    audit_id: int


# ---------------------------------------------------------------- checks (no writes)


def check_decision(decision: Decision, departments: Collection[str] | None) -> Decision:
    """The decision with its number normalised, or a refusal (voicemail.errors) saying what is wrong."""
    if decision.verdict not in OVERRIDE_VERDICTS:
        raise InvalidVerdict(f"判定只能是 {'、'.join(OVERRIDE_VERDICTS)} 之一")
    reason = decision.reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise InvalidReason(f"须填写 1 到 {REASON_MAX} 个字的理由")
    number = decision.callback_number
    if number is not None:
        parsed = normalise_caller(number)
        if parsed is None:
            raise InvalidCallbackNumber(f"{number!r} 不是可以回拨的号码"
                                        "（应为 11 位手机号，或带区号的座机号）")
        number = parsed.digits
    if decision.department is not None and departments is not None and decision.department not in departments:
        raise UnknownDepartment(f"没有部门 {decision.department!r}")
    if decision.urgency is not None and decision.urgency not in URGENCIES:
        raise InvalidUrgency(f"紧急程度只能是 {'、'.join(URGENCIES)} 之一")
    if decision.verdict == VERDICT_DUPLICATE and decision.duplicate_of is None:
        raise DuplicateOfRequired("判为重复时须指明与哪条留言重复")
    return Decision(decision.verdict, reason, number, decision.department, decision.urgency,
                    decision.duplicate_of, decision.expected_version)


def same_caller_recent(session: Session, row: Voicemail, window: timedelta) -> list[Voicemail]:
    """The same caller's other messages within the window (what "duplicate of" may name).

    A withheld caller who left no number is known only by voice, as triage knows them: the
    other withheld messages without a number are hers to compare by ear.
    """
    numbers = {n for n in (row.callback_number, None if row.caller_withheld else row.caller_num) if n}
    if numbers:
        same = Voicemail.caller_num.in_(numbers) | Voicemail.callback_number.in_(numbers)
    elif row.caller_withheld:
        same = Voicemail.caller_withheld.is_(True) & Voicemail.callback_number.is_(None)
    else:
        return []
    moment = row.call_time or row.registered_at
    rows = session.scalars(select(Voicemail).where(
        Voicemail.id != row.id, same,
        Voicemail.call_time >= moment - window, Voicemail.call_time <= moment + window,
    ).order_by(Voicemail.call_time.desc())).all()
    return list(rows)


def _check_duplicate_target(session: Session, row: Voicemail, target_id: int, window: timedelta) -> None:
    if target_id == row.id or target_id not in {r.id for r in same_caller_recent(session, row, window)}:
        raise InvalidDuplicateOf(f"留言 {target_id} 不是同一来电者的近期留言")


# ---------------------------------------------------------------- the decision


def snapshot(row: Voicemail) -> dict[str, Any]:
    """The fields a decision changes, as the audit keeps them."""
    return {name: getattr(row, name) for name in SNAPSHOT_FIELDS}


def _take_version(session: Session, voicemail_id: int, expected: int | None) -> Voicemail:
    """Raise the version (only if it is still `expected`) and return the row, or refuse."""
    condition = [Voicemail.id == voicemail_id]
    if expected is not None:
        condition.append(Voicemail.version == expected)
    result = session.execute(update(Voicemail).where(*condition).values(version=Voicemail.version + 1)
                             .execution_options(synchronize_session=False))
    row = session.get(Voicemail, voicemail_id, populate_existing=True)
    if row is None:
        raise VoicemailNotFound(f"没有编号为 {voicemail_id} 的留言")
    if result.rowcount == 0:
        raise VersionConflict(f"留言 {voicemail_id} 已被他人修改（现为第 {row.version} 版，"
                              f"您看到的是第 {expected} 版），请刷新后再处理")
    return row


def _queue(session: Session, row: Voicemail, now: datetime) -> int:
    """Put a valid message in the callback queue with its current number, department, urgency.

    A transcript with no Chinese in it (a stand-in model's) is not carried to the callback console.
    """
    words = row.transcript if row.transcript and han_count(row.transcript) else ""
    callback = enqueue_callback(session, row.id, priority=row.priority or DEFAULT_PRIORITY,
                                department=row.department, number=row.callback_number or "",
                                transcript=words, reasons=row.triage_reasons, now=now)
    if callback.state == State.CLOSED and callback.resolution == Resolution.WITHDRAWN:
        callback.state = State.QUEUED  # judged invalid earlier, valid after all
        callback.resolution = None
        callback.closed_at = None
    if callback.state == State.QUEUED:
        level = Priority(row.priority or DEFAULT_PRIORITY)
        callback.number, callback.department = row.callback_number or callback.number, row.department
        callback.priority, callback.priority_rank = level.value, PRIORITY_RANK[level]
    return callback.id


def _apply(session: Session, row: Voicemail, decision: Decision, actor: Actor, now: datetime) -> int | None:
    """Change the row (and its callback) as decided; the callback id for a valid message."""
    if decision.verdict == STATE_VALID:
        number = (decision.callback_number or row.callback_number
                  or (None if row.caller_withheld else row.caller_num))
        if not number:
            raise NoCallbackNumber(f"留言 {row.id} 没有可回拨的号码，请填写回拨号码")
        row.state, row.callback_number, row.duplicate_of = STATE_VALID, number, None
        row.department = decision.department or row.department
        row.priority = decision.urgency or row.priority or DEFAULT_PRIORITY
        return _queue(session, row, now)
    row.state = STATE_INVALID
    row.duplicate_of = decision.duplicate_of if decision.verdict == VERDICT_DUPLICATE else None
    withdraw_callback(session, row.id, reason=f"overridden as {decision.verdict}: {decision.reason}",
                      actor=actor)
    return None


def override_verdict(session: Session, voicemail_id: int, verdict: str, reason: str, *,
                     actor: str, role: str | None, now: datetime | None = None,
                     decision: Decision | None = None, departments: Collection[str] | None = None,
                     duplicate_window: timedelta = timedelta(hours=12)) -> OverrideResult:
    """Decide one message; the caller commits (the audit entry goes with it).

    `decision` carries the screening fields (number, department, urgency, duplicate_of,
    expected_version); without it only verdict and reason are set.
    """
    wanted = check_decision(decision or Decision(verdict, reason), departments)
    row = _take_version(session, voicemail_id, wanted.expected_version)
    if wanted.verdict == VERDICT_DUPLICATE and wanted.duplicate_of != row.duplicate_of:
        _check_duplicate_target(session, row, wanted.duplicate_of or 0, duplicate_window)
    moment = now or utcnow()
    before = snapshot(row)
    callback_id = _apply(session, row, wanted, Actor(actor, role), moment)
    row.override_by, row.override_reason, row.override_at = actor, wanted.reason, moment
    entry = record_audit(session, AUDIT_DECIDE, actor=actor, role=role, target=f"voicemail:{voicemail_id}",
                         detail={"from": before["state"], "to": row.state, "verdict": wanted.verdict,
                                 "reason": wanted.reason, "callback_id": callback_id,
                                 "before": before, "after": snapshot(row)})
    session.flush()
    return OverrideResult(row.id, before["state"], row.state, callback_id, row.version, entry.id)


# ---------------------------------------------------------------- batch and undo


def confirm_verdicts(session: Session, items: Sequence[tuple[int, int]], reason: str, *,
                     actor: str, role: str | None, now: datetime | None = None) -> list[OverrideResult]:
    """Confirm the machine's valid/invalid verdicts of several messages at once (all or nothing).

    `items` are (voicemail id, version seen); a message still in review cannot be confirmed.
    """
    results = []
    for voicemail_id, version in items:
        row = session.get(Voicemail, voicemail_id)
        if row is not None and row.state not in (STATE_VALID, STATE_INVALID):
            raise NotDecided(f"留言 {voicemail_id} {STATE_ZH.get(row.state, '状态未知')}，"
                             "没有机器判定可确认，请人工判定")
        verdict = VERDICT_DUPLICATE if row is not None and row.duplicate_of else (row.state if row else "")
        decision = Decision(verdict or STATE_INVALID, reason, duplicate_of=row.duplicate_of if row else None,
                            expected_version=version)
        results.append(override_verdict(session, voicemail_id, decision.verdict, reason, actor=actor,
                                        role=role, now=now, decision=decision))
    return results


def undo_last(session: Session, *, actor: str, role: str | None,
              now: datetime | None = None) -> OverrideResult:
    """Put back what the actor's last decision changed, if nobody changed the message since."""
    undone = {(e.detail or {}).get("undoes") for e in session.scalars(
        select(AuditEntry).where(AuditEntry.action == AUDIT_UNDO, AuditEntry.actor == actor))}
    last = session.scalar(select(AuditEntry).where(
        AuditEntry.action == AUDIT_DECIDE, AuditEntry.actor == actor,
        AuditEntry.id.not_in([u for u in undone if u is not None] or [-1]))
        .order_by(AuditEntry.id.desc()).limit(1))
    if last is None or "after" not in (last.detail or {}):
        raise NothingToUndo("您没有可撤销的判定")
    before, after = last.detail["before"], last.detail["after"]
    voicemail_id = int((last.target or "").split(":")[1])
    row = _take_version(session, voicemail_id, after["version"])
    current = snapshot(row)
    for name in SNAPSHOT_FIELDS[:-1]:
        setattr(row, name, before[name])
    if not before["override_by"]:
        row.override_at = None
    if row.state == STATE_VALID and row.callback_number:
        _queue(session, row, now or utcnow())
    else:
        withdraw_callback(session, row.id, reason="decision undone", actor=Actor(actor, role))
    entry = record_audit(session, AUDIT_UNDO, actor=actor, role=role, target=last.target,
                         detail={"undoes": last.id, "before": current, "after": snapshot(row)})
    session.flush()
    return OverrideResult(row.id, current["state"], row.state, None, row.version, entry.id)

"""Staff overrule the machine: a verdict set by a person, with who and why kept and audited.

A message made valid enters the callback queue in the same transaction (enqueue is idempotent,
so overriding twice never queues twice). The callbacks service cannot withdraw a queued callback
yet, so making a valid message invalid leaves its callback for staff to close.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from hotline.db.audit import record_audit
from hotline.db.types import utcnow
from voicemail.callbacks.rules import Resolution, State
from voicemail.callbacks.service import Actor, enqueue_callback, withdraw_callback
from voicemail.models import STATE_INVALID, STATE_VALID, Voicemail

OVERRIDE_VERDICTS = (STATE_VALID, STATE_INVALID)
DEFAULT_PRIORITY = "normal"
REASON_MAX = 500


class OverrideError(Exception):
    """A refused override; `code` is stable for API clients and nothing was changed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class OverrideResult:
    voicemail_id: int
    previous: str
    verdict: str
    callback_id: int | None


def override_verdict(session: Session, voicemail_id: int, verdict: str, reason: str, *,
                     actor: str, role: str | None, now: datetime | None = None) -> OverrideResult:
    """Set the verdict of one message; the caller commits (the audit entry goes with it)."""
    if verdict not in OVERRIDE_VERDICTS:
        raise OverrideError("invalid_verdict", f"verdict must be one of {', '.join(OVERRIDE_VERDICTS)}")
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise OverrideError("invalid_reason", f"a reason of 1 to {REASON_MAX} characters is required")
    row = session.get(Voicemail, voicemail_id, with_for_update=True)
    if row is None:
        raise OverrideError("voicemail_not_found", f"no voicemail with id {voicemail_id}")
    number = row.callback_number or (None if row.caller_withheld else row.caller_num)
    if verdict == STATE_VALID and not number:
        raise OverrideError("no_callback_number",
                            f"voicemail {voicemail_id} has no number to call back")
    moment = now or utcnow()
    previous = row.state
    row.state = verdict
    row.override_by = actor
    row.override_reason = reason
    row.override_at = moment
    callback_id = None
    if verdict == STATE_VALID and number:
        callback = enqueue_callback(session, row.id, priority=row.priority or DEFAULT_PRIORITY,
                                    department=row.department, number=number,
                                    transcript=row.transcript, reasons=row.triage_reasons,
                                    now=moment)
        if callback.state == State.CLOSED and callback.resolution == Resolution.WITHDRAWN:
            callback.state = State.QUEUED  # judged invalid earlier, valid after all
            callback.resolution = None
        callback_id = callback.id
    elif verdict == STATE_INVALID:
        withdraw_callback(session, row.id, reason=f"overridden as invalid: {reason}",
                          actor=Actor(actor, role))
    record_audit(session, "voicemail.override", actor=actor, role=role,
                 target=f"voicemail:{voicemail_id}",
                 detail={"from": previous, "to": verdict, "reason": reason,
                         "callback_id": callback_id})
    return OverrideResult(row.id, previous, verdict, callback_id)

"""HTTP routes of the callback queue: read (monitor: masked numbers), claim, dial, outcome.

Refusals are JSON {code, message}: 404 unknown, 409 state conflicts, 403 someone else's claim,
422 bad input; the session is rolled back, so a refused request changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from hotline.auth.deps import OperatorDep, ReaderDep
from hotline.auth.principal import Principal
from hotline.auth.seats import require_own_seat
from hotline.config.deps import ConfigDep
from hotline.db.session import SessionDep
from hotline.db.types import utcnow
from hotline.db.values import MULTI_LINE
from hotline.privacy import data_for, phone_for, text_for
from voicemail.api import RowId
from voicemail.callbacks import service
from voicemail.callbacks.dial import CallbackDialler, check_seat_free, originate_callback, seat_extension
from voicemail.callbacks.errors import BRIDGE_NOT_RUNNING, BridgeNotRunning, NothingToClaim
from voicemail.callbacks.models import Callback, CallbackAttempt
from voicemail.callbacks.notifier import CallbackNotifier, get_callback_notifier
from voicemail.callbacks.rules import Outcome
from voicemail.models import Voicemail
from voicemail.triage import reasons_zh

CLOCK_STATE_KEY = "callback_clock"  # tests put an injected clock on app.state under this name
DIALLER_KEY = "callback_dialler"  # the composition root puts the hall's CallbackDialler here

router = APIRouter(prefix="/callbacks", tags=["callbacks"])

# The error statuses each route may answer besides 401/403/422 (the body is the API's error shape).
NOT_FOUND = {404: {"description": "No callback with this id (callback_not_found)"}}
CLAIM_CONFLICT = {409: {"description": "Claimed by someone else, closed, or not due yet "
                                       "(already_claimed, closed, not_due)"}}
NOT_HELD = {403: {"description": "The token's role may not do this, or someone else holds the "
                                 "claim (not_claimer)"},
            409: {"description": "The callback is not claimed (not_claimed)"}}
DIAL_ERRORS = {
    404: {"description": "No callback with this id (callback_not_found), or no seat with this "
                         "工号 (seat_not_found)"},
    403: NOT_HELD[403],
    409: {"description": "The callback is not claimed (not_claimed), or the seat cannot take a "
                         "call now (seat_busy)"},
    502: {"description": "Asterisk did not place the call (dial_failed)"},
    503: {"description": "The AMI bridge is not running (bridge_not_running)"},
}


class AttemptOut(BaseModel):
    attempt: int = Field(examples=[1])
    staff: str = Field(examples=["zhang.wei"])
    seat_id: str | None = Field(examples=["07"])
    outcome: str = Field(examples=["no_answer"])
    department: str | None = Field(examples=[None])
    note: str | None = Field(examples=["无人接听"])
    dialed_at: datetime | None = Field(examples=["2026-11-28T08:41:10+08:00"])
    recorded_at: datetime = Field(examples=["2026-11-28T08:42:00+08:00"])


class CallbackOut(BaseModel):
    id: int = Field(examples=[3])
    voicemail_id: int = Field(examples=[17])
    state: str = Field(examples=["queued"])
    priority: str = Field(examples=["urgent"])
    department: str | None = Field(description="suggested by triage", examples=["供水集团"])
    transcript_excerpt: str | None = Field(examples=["家里停水三天了，请尽快派人来看看"])
    number: str | None = Field(description="masked (138****8000) for the monitor role",
                               examples=["138****8000"])
    citizen_name: str | None = Field(description="the caller's name as the trunk gave it, if any",
                                     examples=["李女士"])
    reasons: list[Any] = Field(description="why triage or staff judged it valid; each with text_zh, "
                               "the Chinese a person reads",
                               examples=[[{"code": "urgent", "detail": "停水", "text_zh": "含紧急词：停水"}]])
    received_at: datetime = Field(examples=["2026-11-27T23:12:40+08:00"])
    due_at: datetime = Field(examples=["2026-11-28T08:30:00+08:00"])
    attempts: int = Field(examples=[0])
    claimed_by: str | None = Field(examples=[None])
    claim_expires_at: datetime | None = Field(examples=[None])
    resolution: str | None = Field(examples=[None])
    transferred_to: str | None = Field(examples=[None])
    closed_at: datetime | None = Field(examples=[None])
    audio_url: str = Field(examples=["/api/voicemails/17/audio"])


class CallbackDetail(CallbackOut):
    history: list[AttemptOut]


class DialIn(BaseModel):
    seat_id: str = Field(description="the staff member's own seat (工号)", examples=["07"])


class OutcomeIn(BaseModel):
    outcome: Outcome = Field(examples=["reached_transferred"])
    department: str | None = Field(None, description="required with reached_transferred (转办)",
                                   examples=["供水集团"])
    note: str | None = Field(None, max_length=2000, pattern=MULTI_LINE, examples=["已转供水集团处理"])


def citizen_names(session: Session, rows: Sequence[Callback]) -> dict[int, str | None]:
    """The callers' names of `rows`' messages, in one query (the queue lists many)."""
    ids = {row.voicemail_id for row in rows}
    if not ids:
        return {}
    found = session.execute(select(Voicemail.id, Voicemail.caller_name).where(Voicemail.id.in_(ids)))
    return {voicemail_id: name for voicemail_id, name in found}


def to_out(row: Callback, principal: Principal,
           names: Mapping[int, str | None] | None = None) -> CallbackOut:
    if names is None:
        session = object_session(row)
        names = citizen_names(session, [row]) if session is not None else {}
    return CallbackOut(
        id=row.id, voicemail_id=row.voicemail_id, state=row.state, priority=row.priority,
        department=row.department, transcript_excerpt=text_for(principal, row.transcript_excerpt),
        number=phone_for(principal, row.number), citizen_name=names.get(row.voicemail_id),
        reasons=data_for(principal, reasons_zh(row.reasons)),
        received_at=row.received_at, due_at=row.due_at, attempts=row.attempts,
        claimed_by=row.claimed_by, claim_expires_at=row.claim_expires_at,
        resolution=row.resolution, transferred_to=row.transferred_to, closed_at=row.closed_at,
        audio_url=f"/api/voicemails/{row.voicemail_id}/audio")


def _attempt_out(row: CallbackAttempt) -> AttemptOut:
    return AttemptOut(attempt=row.attempt, staff=row.staff, seat_id=row.seat_id,
                      outcome=row.outcome, department=row.department, note=row.note,
                      dialed_at=row.dialed_at, recorded_at=row.recorded_at)


def get_clock(request: Request) -> Callable[[], datetime]:
    return getattr(request.app.state, CLOCK_STATE_KEY, utcnow)


def _actor(principal: Principal) -> service.Actor:
    return service.Actor(principal.name, principal.role.value)


class _Unit:
    """One request's unit of work: commit on success, roll back on a refusal (or anything else).

    After the commit, and only then, it announces what changed: `changes` for the routes that
    change the queue, and claims that a read or a claim expired on the way (service.CLAIMS_EXPIRED).
    """

    def __init__(self, session: Session, notifier: CallbackNotifier, *, changes: bool) -> None:
        self.session = session
        self.notifier = notifier
        self.changes = changes

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 _tb: Any) -> None:
        expired = self.session.info.pop(service.CLAIMS_EXPIRED, False)
        if error is not None:
            self.session.rollback()
            return
        self.session.commit()
        if expired:
            self.notifier.claims_expired()
        if self.changes:
            self.notifier.changed()


Notifier = Annotated[CallbackNotifier, Depends(get_callback_notifier)]


def unit(session: SessionDep, notifier: Notifier) -> Iterator[_Unit]:
    yield _Unit(session, notifier, changes=False)


def change(session: SessionDep, notifier: Notifier) -> Iterator[_Unit]:
    """A unit of work that changes the queue: announced through the notifier when it commits."""
    yield _Unit(session, notifier, changes=True)


Clock = Annotated[Callable[[], datetime], Depends(get_clock)]
Config = ConfigDep
Unit = Annotated[_Unit, Depends(unit)]
Change = Annotated[_Unit, Depends(change)]


@router.get("", response_model=list[CallbackOut], summary="The callback queue",
            description="Role: monitor, operator or admin. Urgent first, then oldest message "
                        "first; numbers masked for monitor.")
def list_callbacks(principal: ReaderDep,
                   work: Unit, clock: Clock,
                   include_closed: Annotated[bool, Query()] = False) -> list[CallbackOut]:
    with work as session:
        rows = service.queue(session, clock(), include_closed=include_closed)
        names = citizen_names(session, rows)
        return [to_out(row, principal, names) for row in rows]


# /claim-next is declared first and /{callback_id:int} matches digits only: a request to
# /claim-next with another method must be answered 405 with `Allow: POST`, not taken for a
# callback id.
@router.post("/claim-next", response_model=CallbackOut, summary="Claim the next callback",
             description="Role: operator or admin. 404 nothing_to_claim when the queue is empty.",
             responses={404: {"description": "No callback is waiting to be claimed "
                                             "(nothing_to_claim)"}})
def claim_next(principal: OperatorDep,
               work: Change, clock: Clock, config: Config) -> CallbackOut:
    with work as session:
        row = service.claim_next(session, _actor(principal), clock(), config.callbacks)
        if row is None:
            raise NothingToClaim("没有等待领取的回访")
        return to_out(row, principal)


@router.get("/{callback_id:int}", response_model=CallbackDetail, summary="One callback and its history",
            description="Role: monitor, operator or admin.", responses=NOT_FOUND)
def show_callback(callback_id: RowId, principal: ReaderDep,
                  work: Unit, clock: Clock) -> CallbackDetail:
    with work as session:
        row = service.get_callback(session, callback_id, clock())
        history = [_attempt_out(a) for a in service.attempts_of(session, callback_id)]
        return CallbackDetail(**to_out(row, principal).model_dump(), history=history)


@router.post("/{callback_id}/claim", response_model=CallbackOut, summary="Claim this callback",
             description="Role: operator or admin. 409 when claimed, closed or not yet due.",
             responses={**NOT_FOUND, **CLAIM_CONFLICT})
def claim_one(callback_id: RowId, principal: OperatorDep,
              work: Change, clock: Clock, config: Config) -> CallbackOut:
    with work as session:
        return to_out(service.claim(session, callback_id, _actor(principal), clock(),
                                    config.callbacks), principal)


@router.post("/{callback_id}/release", response_model=CallbackOut, summary="Give a claim back",
             description="Role: operator or admin; only the claimer.",
             responses={**NOT_FOUND, **NOT_HELD})
def release(callback_id: RowId, principal: OperatorDep,
            work: Change, clock: Clock) -> CallbackOut:
    with work as session:
        return to_out(service.release(session, callback_id, _actor(principal), clock()), principal)


async def get_dialler(request: Request) -> CallbackDialler:
    """The hall's callback port, handed in by the composition root; 503 while no bridge runs."""
    dialler = getattr(request.app.state, DIALLER_KEY, None)
    if dialler is None:
        raise BridgeNotRunning(BRIDGE_NOT_RUNNING)
    return dialler


@router.post("/{callback_id}/dial", response_model=CallbackOut,
             summary="Call the citizen from my seat",
             description="Role: operator (for a seat its token may act for: its own, or any "
                         "for a team lead) or admin; only the claimer. Rings the seat's phone, "
                         "then the citizen through the trunk.",
             responses=DIAL_ERRORS)
async def dial(callback_id: RowId, body: DialIn,
               principal: OperatorDep,
               work: Change, clock: Clock, config: Config,
               dialler: Annotated[CallbackDialler, Depends(get_dialler)]) -> CallbackOut:
    require_own_seat(principal, body.seat_id)
    with work as session:
        actor = _actor(principal)
        row = service.check_can_dial(session, callback_id, actor, clock())
        seat_extension(config, body.seat_id)
        check_seat_free(dialler, body.seat_id)
        number = row.number
        # Nothing is written before Asterisk accepts the call.
        session.rollback()
        action_id = await originate_callback(dialler, config, callback_id=callback_id,
                                             seat_id=body.seat_id, number=number)
        row = service.record_dial(session, callback_id, actor, body.seat_id, action_id,
                                  clock(), config.callbacks)
        return to_out(row, principal)


@router.post("/{callback_id}/outcome", response_model=CallbackOut, summary="Record the outcome",
             description="Role: operator or admin; only the claimer. no_answer and busy are "
                         "retried after [callbacks] retry_minutes, up to max_attempts.",
             responses={**NOT_FOUND, **NOT_HELD})
def outcome(callback_id: RowId, body: OutcomeIn,
            principal: OperatorDep,
            work: Change, clock: Clock, config: Config) -> CallbackOut:
    with work as session:
        row = service.record_outcome(
            session, callback_id, _actor(principal), body.outcome.value, clock(),
            config.callbacks, department=body.department, note=body.note,
            departments=list(config.remit.names))
        return to_out(row, principal)

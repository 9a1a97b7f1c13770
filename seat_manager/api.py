"""HTTP routes for seats: the live picture and the operators' actions."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from hotline.auth.deps import require_role
from hotline.auth.principal import Principal
from hotline.auth.roles import OPERATORS, READERS
from hotline.db.audit import record_audit
from hotline.db.session import get_session
from hotline.privacy import phone_for
from seat_manager.service import SeatError, SeatOutcome
from seat_manager.state import SeatCall, SeatView
from telephony.deps import get_hall
from telephony.hall import Hall

router = APIRouter(prefix="/seats", tags=["seats"])


class SeatCallOut(BaseModel):
    citizen_number: str | None = Field(description="masked for the monitor role",
                                       examples=["139****5678"])
    citizen_name: str | None
    linkedid: str | None
    queue: str | None
    started_at: datetime | None
    queue_wait_seconds: int | None
    three_way: bool
    ended_at: datetime | None


class SeatOut(BaseModel):
    seat_id: str = Field(examples=["07"])
    extension: str = Field(examples=["1007"])
    state: str = Field(examples=["available"], description="offline, logged_out, available, ringing, "
                                                            "on_call, wrap_up or paused")
    state_since: datetime | None
    registered: bool | None
    logged_in: bool
    paused: bool
    pause_reason: str | None
    paused_since: datetime | None
    device_state: str | None
    wrapup_until: datetime | None
    call: SeatCallOut | None


class SeatActionOut(BaseModel):
    seat: SeatOut
    pbx_message: str | None = Field(description="what Asterisk answered",
                                    examples=["Added interface to queue"])
    confirmed: bool = Field(description="the queue's own event reached the bridge")


class PauseIn(BaseModel):
    reason: str = Field(min_length=1, max_length=120, examples=["午休"])


def call_out(call: SeatCall | None, principal: Principal) -> SeatCallOut | None:
    if call is None:
        return None
    return SeatCallOut(citizen_number=phone_for(principal, call.citizen_number),
                       citizen_name=call.citizen_name, linkedid=call.linkedid, queue=call.queue,
                       started_at=call.started_at, queue_wait_seconds=call.queue_wait_seconds,
                       three_way=call.three_way, ended_at=call.ended_at)


def seat_out(view: SeatView, principal: Principal) -> SeatOut:
    return SeatOut(
        seat_id=view.seat_id, extension=view.endpoint, state=view.state.value,
        state_since=view.state_since, registered=view.registered, logged_in=view.member,
        paused=view.paused, pause_reason=view.pause_reason, paused_since=view.paused_since,
        device_state=view.device_state.value if view.device_state is not None else None,
        wrapup_until=view.wrapup_until, call=call_out(view.call, principal))


def _refused(error: SeatError) -> HTTPException:
    return HTTPException(error.status, detail={"code": error.code, "message": error.message})


HallDep = Annotated[Hall, Depends(get_hall)]
Reader = Annotated[Principal, Depends(require_role(*READERS))]
Operator = Annotated[Principal, Depends(require_role(*OPERATORS))]
SessionDep = Annotated[Session, Depends(get_session)]


@router.get("", response_model=list[SeatOut], summary="All seats, live",
            description="Role: monitor, operator or admin.")
def list_seats(hall: HallDep, principal: Reader) -> list[SeatOut]:
    return [seat_out(view, principal) for view in hall.board.seats()]


@router.get("/{seat_id}", response_model=SeatOut, summary="One seat, live",
            description="Role: monitor, operator or admin.")
def show_seat(seat_id: str, hall: HallDep, principal: Reader) -> SeatOut:
    view = hall.board.seat(seat_id)
    if view is None:
        raise HTTPException(404, detail={"code": "seat_not_found",
                                         "message": f"no seat with 工号 {seat_id!r}"})
    return seat_out(view, principal)


async def _act(action: str, seat_id: str, hall: Hall, principal: Principal, session: Session,
               operation: Awaitable[SeatOutcome], detail: dict[str, str] | None = None) -> SeatActionOut:
    try:
        outcome = await operation
    except SeatError as error:
        raise _refused(error) from None
    record_audit(session, f"seat.{action}", actor=principal.name, role=principal.role.value,
                 target=f"seat:{seat_id}", detail={"pbx_message": outcome.pbx_message, **(detail or {})})
    session.commit()
    return SeatActionOut(seat=seat_out(outcome.seat, principal), pbx_message=outcome.pbx_message,
                         confirmed=outcome.confirmed)


@router.post("/{seat_id}/login", response_model=SeatActionOut, summary="Log the seat in to the queue",
             description="Role: operator or admin. QueueAdd; 409 when already logged in.")
async def login(seat_id: str, hall: HallDep, principal: Operator, session: SessionDep) -> SeatActionOut:
    return await _act("login", seat_id, hall, principal, session, hall.seats.login(seat_id))


@router.post("/{seat_id}/logout", response_model=SeatActionOut, summary="Log the seat out",
             description="Role: operator or admin. QueueRemove.")
async def logout(seat_id: str, hall: HallDep, principal: Operator, session: SessionDep) -> SeatActionOut:
    return await _act("logout", seat_id, hall, principal, session, hall.seats.logout(seat_id))


@router.post("/{seat_id}/pause", response_model=SeatActionOut, summary="Pause with a reason",
             description="Role: operator or admin. QueuePause with the reason.")
async def pause(seat_id: str, body: PauseIn, hall: HallDep, principal: Operator,
                session: SessionDep) -> SeatActionOut:
    return await _act("pause", seat_id, hall, principal, session,
                      hall.seats.pause(seat_id, body.reason), {"reason": body.reason})


@router.post("/{seat_id}/resume", response_model=SeatActionOut, summary="End the pause",
             description="Role: operator or admin. QueuePause Paused=false.")
async def resume(seat_id: str, hall: HallDep, principal: Operator, session: SessionDep) -> SeatActionOut:
    return await _act("resume", seat_id, hall, principal, session, hall.seats.resume(seat_id))

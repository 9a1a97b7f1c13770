"""HTTP routes for seats: the live picture and the operators' actions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field, TypeAdapter
from sqlalchemy.orm import Session

from hotline.auth.deps import OperatorDep as Operator
from hotline.auth.deps import ReaderDep as Reader
from hotline.auth.principal import Principal
from hotline.auth.seats import require_own_seat
from hotline.db.audit import record_audit
from hotline.db.session import SessionDep
from hotline.db.values import ONE_LINE
from hotline.privacy import phone_for
from seat_manager.deps import SeatDesk, SeatFloor, get_seat_desk
from seat_manager.errors import SeatNotFound
from seat_manager.service import SeatOutcome, SeatService
from seat_manager.state import SeatCall, SeatView

router = APIRouter(prefix="/seats", tags=["seats"])

# The error statuses each route may answer (the body is always the API's error shape).
BRIDGE_DOWN = {503: {"description": "The AMI bridge is not running (bridge_not_running)"}}
NO_SEAT = {404: {"description": "No seat with this 工号 in hotline.conf (seat_not_found)"}}
ACTION_REFUSED = {
    409: {"description": "The seat is not in a state that allows this (already_logged_in, "
                         "not_logged_in, not_paused), or Asterisk refused the action (pbx_refused)"},
    503: {"description": "The AMI bridge is not running (bridge_not_running), or the PBX is "
                         "unreachable or did not answer (pbx_unreachable, pbx_timeout)"},
}
SEAT_ID_EXAMPLES = ["07"]


class SeatCallOut(BaseModel):
    citizen_number: str | None = Field(description="masked for the monitor role",
                                       examples=["139****5678"])
    citizen_name: str | None = Field(examples=["张女士"])
    linkedid: str | None = Field(examples=["1764291600.42"])
    queue: str | None = Field(examples=["hotline"])
    started_at: datetime | None = Field(examples=["2026-11-28T09:15:02+08:00"])
    queue_wait_seconds: int | None = Field(examples=[12])
    three_way: bool = Field(examples=[False])
    ended_at: datetime | None = Field(examples=[None])


class SeatOut(BaseModel):
    seat_id: str = Field(examples=["07"])
    extension: str = Field(examples=["1007"])
    state: str = Field(examples=["available"], description="offline, logged_out, available, ringing, "
                                                            "on_call, wrap_up or paused")
    state_since: datetime | None = Field(examples=["2026-11-28T09:15:14+08:00"])
    registered: bool | None = Field(examples=[True])
    logged_in: bool = Field(examples=[True])
    paused: bool = Field(examples=[False])
    pause_reason: str | None = Field(examples=[None])
    paused_since: datetime | None = Field(examples=[None])
    device_state: str | None = Field(examples=["INUSE"])
    wrapup_until: datetime | None = Field(examples=[None])
    call: SeatCallOut | None
    stale: bool = Field(False, description="true while the link to Asterisk is down: the seat is "
                                           "shown as it was at stale_since, not as it is now",
                        examples=[False])
    stale_since: datetime | None = Field(None, examples=[None])
    hall: str = Field("main", description="the PBX the seat is on ([pbx NAME] in hotline.conf)",
                      examples=["main"])
    hall_name: str = Field("", description="its hall's display name", examples=["城东大厅"])


class SeatActionOut(BaseModel):
    seat: SeatOut
    pbx_message: str | None = Field(description="what Asterisk answered",
                                    examples=["Added interface to queue"])
    confirmed: bool = Field(description="the queue's own event reached the bridge", examples=[True])


class PauseIn(BaseModel):
    # No control characters (a NUL could never reach Asterisk): stated in the schema, checked
    # again by SeatService.pause.
    reason: str = Field(min_length=1, max_length=120, pattern=ONE_LINE,
                        examples=["午休"])


def call_out(call: SeatCall | None, principal: Principal) -> SeatCallOut | None:
    if call is None:
        return None
    return SeatCallOut(citizen_number=phone_for(principal, call.citizen_number),
                       citizen_name=call.citizen_name, linkedid=call.linkedid, queue=call.queue,
                       started_at=call.started_at, queue_wait_seconds=call.queue_wait_seconds,
                       three_way=call.three_way, ended_at=call.ended_at)


def seat_out(view: SeatView, principal: Principal, floor: SeatFloor | None = None) -> SeatOut:
    """`floor`: the seat's PBX, whose name and hall's display name the answer carries."""
    return SeatOut(
        hall=floor.pbx if floor is not None else "main",
        hall_name=floor.hall_name if floor is not None else "",
        seat_id=view.seat_id, extension=view.endpoint, state=view.state.value,
        state_since=view.state_since, registered=view.registered, logged_in=view.member,
        paused=view.paused, pause_reason=view.pause_reason, paused_since=view.paused_since,
        device_state=view.device_state.value if view.device_state is not None else None,
        wrapup_until=view.wrapup_until, call=call_out(view.call, principal),
        stale=view.stale_since is not None, stale_since=view.stale_since)


# Routes name the principal before the desk: who may ask is answered (401/403) before whether
# the bridge runs (503), so an anonymous caller learns nothing about the service.
DeskDep = Annotated[SeatDesk, Depends(get_seat_desk)]
SeatId = Annotated[str, Path(description="the seat's 工号", examples=SEAT_ID_EXAMPLES)]


class SeatsBodyCache:
    """`GET /seats` encoded once per change of the board (SeatBoard.version) and principal.

    Why: wall screens poll it hundreds of times a second; building 50 views and validating and
    encoding them per request was most of the route's cost. Keyed by the whole principal, since
    what a seat shows depends on who asks (hotline.privacy).
    """

    MAX_PRINCIPALS = 64

    def __init__(self) -> None:
        self._version: tuple[tuple[int, int], ...] | None = None
        self._bodies: dict[Principal, bytes] = {}

    def get(self, desk: SeatDesk, principal: Principal) -> bytes:
        version = desk.version
        if version != self._version or len(self._bodies) >= self.MAX_PRINCIPALS:
            self._version, self._bodies = version, {}
        body = self._bodies.get(principal)
        if body is None:
            body = SEAT_LIST.dump_json([seat_out(view, principal, floor) for floor in desk
                                        for view in floor.board.seats()])
            self._bodies[principal] = body
        return body


SEAT_LIST = TypeAdapter(list[SeatOut])
SEATS_BODY_KEY = "seats_body"


@router.get("", response_model=list[SeatOut], summary="All seats, live",
            description="Role: monitor, operator or admin.", responses=BRIDGE_DOWN)
async def list_seats(request: Request, principal: Reader, desk: DeskDep) -> Response:
    cache = getattr(request.app.state, SEATS_BODY_KEY, None)
    if cache is None:
        cache = SeatsBodyCache()
        setattr(request.app.state, SEATS_BODY_KEY, cache)
    return Response(cache.get(desk, principal), media_type="application/json")


@router.get("/{seat_id}", response_model=SeatOut, summary="One seat, live",
            description="Role: monitor, operator or admin.", responses={**NO_SEAT, **BRIDGE_DOWN})
async def show_seat(seat_id: SeatId, principal: Reader, desk: DeskDep) -> SeatOut:
    floor = desk.floor_of(seat_id)
    view = floor.board.seat(seat_id)
    if view is None:
        raise SeatNotFound(f"没有工号为 {seat_id!r} 的坐席")
    return seat_out(view, principal, floor)


OWN_SEAT_ROLE = ("Role: operator (for its own seat; every seat for a declared team lead) "
                 "or admin.")


async def _act(action: str, seat_id: str, principal: Principal, session: Session,
               desk: SeatDesk, operation: Callable[[SeatService], Awaitable[SeatOutcome]],
               detail: dict[str, str] | None = None) -> SeatActionOut:
    require_own_seat(principal, seat_id)  # the one own-seat rule
    floor = desk.floor_of(seat_id)  # the seat's actions go to its own PBX
    outcome = await operation(floor.service)
    record_audit(session, f"seat.{action}", actor=principal.name, role=principal.role.value,
                 target=f"seat:{seat_id}", detail={"pbx_message": outcome.pbx_message, **(detail or {})})
    session.commit()
    return SeatActionOut(seat=seat_out(outcome.seat, principal, floor), pbx_message=outcome.pbx_message,
                         confirmed=outcome.confirmed)


@router.post("/{seat_id}/login", response_model=SeatActionOut, summary="Log the seat in to the queue",
             description=f"{OWN_SEAT_ROLE} QueueAdd; 409 when already logged in.",
             responses={**NO_SEAT, **ACTION_REFUSED})
async def login(seat_id: SeatId, principal: Operator, desk: DeskDep, session: SessionDep) -> SeatActionOut:
    return await _act("login", seat_id, principal, session, desk, lambda seats: seats.login(seat_id))


@router.post("/{seat_id}/logout", response_model=SeatActionOut, summary="Log the seat out",
             description=f"{OWN_SEAT_ROLE} QueueRemove.",
             responses={**NO_SEAT, **ACTION_REFUSED})
async def logout(seat_id: SeatId, principal: Operator, desk: DeskDep, session: SessionDep) -> SeatActionOut:
    return await _act("logout", seat_id, principal, session, desk, lambda seats: seats.logout(seat_id))


@router.post("/{seat_id}/pause", response_model=SeatActionOut, summary="Pause with a reason",
             description=f"{OWN_SEAT_ROLE} QueuePause with the reason.",
             responses={**NO_SEAT, **ACTION_REFUSED})
async def pause(seat_id: SeatId, body: PauseIn, principal: Operator, desk: DeskDep,
                session: SessionDep) -> SeatActionOut:
    return await _act("pause", seat_id, principal, session,
                      desk, lambda seats: seats.pause(seat_id, body.reason),
                      {"reason": body.reason})


@router.post("/{seat_id}/resume", response_model=SeatActionOut, summary="End the pause",
             description=f"{OWN_SEAT_ROLE} QueuePause Paused=false.",
             responses={**NO_SEAT, **ACTION_REFUSED})
async def resume(seat_id: SeatId, principal: Operator, desk: DeskDep, session: SessionDep) -> SeatActionOut:
    return await _act("resume", seat_id, principal, session, desk, lambda seats: seats.resume(seat_id))

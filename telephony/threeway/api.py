"""HTTP routes for three-way calls. An operator acts only for a seat its token may act for (its
own; every seat for a declared team lead: hotline/auth/seats.py); an admin may act on any call."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from hotline.auth.deps import OperatorDep as Operator
from hotline.auth.deps import ReaderDep as Reader
from hotline.auth.principal import Principal
from hotline.auth.seats import require_own_seat
from hotline.db.audit import record_audit
from hotline.db.session import SessionDep
from hotline.privacy import text_for
from telephony.deps import get_hall, get_halls, get_session_hall
from telephony.hall import Hall, Halls
from telephony.threeway import machine
from telephony.threeway.directory import department_experts
from telephony.threeway.machine import Command
from telephony.threeway.session import Party, ThreeWaySession

router = APIRouter(prefix="/threeway", tags=["three-way calls"])

# Routes name the principal before the hall: 401/403 come before 503 bridge_not_running.
HallDep = Annotated[Hall, Depends(get_hall)]
HallsDep = Annotated[Halls, Depends(get_halls)]
SessionHallDep = Annotated[Hall, Depends(get_session_hall)]

# The error statuses each route may answer besides 401/403/422 (the body is the API's error shape).
BRIDGE_DOWN = {503: {"description": "The AMI bridge is not running (bridge_not_running)"}}
NOT_FOUND = {404: {"description": "No three-way call with this id (session_not_found)"},
             **BRIDGE_DOWN}
NOT_YOUR_SEAT = {403: {"description": "The token's role may not do this, or this operator token "
                                      "is for another seat (not_your_seat)"}}
START_ERRORS = {
    **NOT_YOUR_SEAT,
    404: {"description": "No such live call, seat, department or expert (call_not_found, "
                         "seat_not_found, department_not_found, expert_not_found)"},
    409: {"description": "The call cannot take an expert now (three_way_in_progress, "
                         "seat_not_on_call, call_not_connected, call_not_two_party, "
                         "department_has_no_experts)"},
    **BRIDGE_DOWN,
}
SESSION_ACTION_ERRORS = {
    **NOT_YOUR_SEAT, **NOT_FOUND,
    409: {"description": "The three-way call is not in a state that allows this"},
}


class ExpertOut(BaseModel):
    name: str = Field(examples=["王建国"])
    order: int = Field(examples=[1])
    extension: str | None = Field(examples=["2001"])
    number: str | None = Field(examples=[None])
    duty: list[str] = Field(examples=[["08:30-17:30"]])
    on_duty: bool = Field(examples=[True])


class DepartmentOut(BaseModel):
    name: str = Field(examples=["住房和城乡建设局"])
    keywords: list[str] = Field(examples=[["物业", "小区", "房屋"]])
    experts: list[ExpertOut]
    on_duty_now: list[str] = Field(description="names of the experts on duty now, in order",
                                   examples=[["王建国"]])


class PartyOut(BaseModel):
    role: str = Field(examples=["expert"])
    name: str = Field(examples=["王建国"])
    state: str = Field(examples=["in_conference"])
    reason: str | None = Field(examples=[None])
    dialled_at: datetime | None = Field(examples=["2026-11-28T10:02:11+08:00"])
    joined_at: datetime | None = Field(examples=["2026-11-28T10:02:25+08:00"])
    left_at: datetime | None = Field(examples=[None])


class SessionOut(BaseModel):
    session_id: str = Field(examples=["17642916000001"])
    linkedid: str | None = Field(examples=["1764291600.42"])
    seat_id: str = Field(examples=["07"])
    department: str | None = Field(examples=["住房和城乡建设局"])
    state: str = Field(examples=["dialling"], description="dialling, joining, conference, "
                                                          "failed, cancelled or ended")
    reason: str | None = Field(description="why it failed or ended", examples=[None])
    started_at: datetime = Field(examples=["2026-11-28T10:02:10+08:00"])
    answered_at: datetime | None = Field(examples=[None])
    ended_at: datetime | None = Field(examples=[None])
    participants: list[PartyOut]


class StartIn(BaseModel):
    # Whole examples: a department or one expert, never both (the field examples alone would
    # combine into a request the route refuses).
    model_config = ConfigDict(json_schema_extra={"examples": [
        {"seat_id": "07", "department": "住房和城乡建设局"}, {"seat_id": "07", "expert": "王建国"}]})

    seat_id: str = Field(examples=["07"])
    department: str | None = Field(default=None, examples=["住房和城乡建设局"])
    expert: str | None = Field(default=None, examples=["王建国"])


def _party_out(party: Party, principal: Principal) -> PartyOut:
    """A citizen party is named by their name or number: numbers masked for monitors."""
    return PartyOut(role=party.role.value, name=text_for(principal, party.name) or "",
                    state=party.state.value, reason=text_for(principal, party.reason),
                    dialled_at=party.dialled_at, joined_at=party.joined_at, left_at=party.left_at)


def session_out(session: ThreeWaySession, principal: Principal) -> SessionOut:
    return SessionOut(session_id=session.session_id, linkedid=session.linkedid,
                      seat_id=session.seat_id, department=session.department,
                      state=session.state.value,
                      started_at=session.started_at, answered_at=session.answered_at,
                      ended_at=session.ended_at,
                      reason=text_for(principal, session.reason),
                      participants=[_party_out(p, principal) for p in session.parties])


def _check_seat(principal: Principal, seat_id: str) -> None:
    require_own_seat(principal, seat_id)


@router.get("/departments", response_model=list[DepartmentOut],
            summary="Departments, their experts in order, and who is on duty now",
            description="Role: monitor, operator or admin.",
            responses=BRIDGE_DOWN)
def departments(principal: Reader, hall: HallDep) -> list[DepartmentOut]:
    now = hall.now()
    result = []
    for department in hall.config.departments:
        experts = department_experts(hall.config, department.name, now)
        result.append(DepartmentOut(
            name=department.name, keywords=list(department.keywords),
            experts=[ExpertOut(name=e.expert.name, order=e.expert.order,
                               extension=e.expert.extension, number=e.expert.number,
                               duty=[str(r) for r in e.expert.duty], on_duty=e.on_duty)
                     for e in experts],
            on_duty_now=[e.expert.name for e in experts if e.on_duty]))
    return result


@router.get("/sessions", response_model=list[SessionOut], summary="Recent three-way calls",
            description="Role: monitor, operator or admin. Newest first.",
            responses=BRIDGE_DOWN)
def list_sessions(principal: Reader, halls: HallsDep) -> list[SessionOut]:
    every = sorted((s for hall in halls for s in hall.threeway.sessions()),
                   key=lambda s: s.started_at, reverse=True)
    return [session_out(s, principal) for s in every]


@router.get("/sessions/{session_id}", response_model=SessionOut, summary="One three-way call",
            description="Role: monitor, operator or admin.",
            responses=NOT_FOUND)
def show_session(session_id: str, principal: Reader, hall: SessionHallDep) -> SessionOut:
    return session_out(hall.threeway.get(session_id), principal)


@router.post("/calls/{linkedid}/start", response_model=SessionOut, status_code=201,
             summary="Bring a department's expert (or one named expert) into the call",
             description="Role: operator (for their own seat) or admin. Experts are tried in "
                         "order, only those on duty; the answer comes while the first rings.",
             responses=START_ERRORS)
async def start(linkedid: str, body: StartIn, principal: Operator, halls: HallsDep,
                db: SessionDep) -> SessionOut:
    _check_seat(principal, body.seat_id)
    hall = halls.of_seat(body.seat_id) or halls.first  # the call is on the seat's own PBX
    session = await hall.threeway.start(linkedid, body.seat_id, department=body.department,
                                        expert=body.expert, requested_by=principal.name)
    _audit(db, "start", principal, session, {"department": body.department or "",
                                              "expert": body.expert or ""})
    return session_out(session, principal)


async def _act(action: str, session_id: str, hall: Hall, principal: Principal, db: Session,
               step: Callable[[ThreeWaySession, datetime], list[Command]]) -> SessionOut:
    _check_seat(principal, hall.threeway.get(session_id).seat_id)
    session = await hall.threeway.request(session_id, step)
    _audit(db, action, principal, session)
    return session_out(session, principal)


def _audit(db: Session, action: str, principal: Principal, session: ThreeWaySession,
           detail: dict[str, str] | None = None) -> None:
    record_audit(db, f"threeway.{action}", actor=principal.name, role=principal.role.value,
                 target=f"threeway:{session.session_id}",
                 detail={"seat_id": session.seat_id, "state": session.state.value, **(detail or {})})
    db.commit()


@router.post("/sessions/{session_id}/cancel", response_model=SessionOut,
             summary="Stop dialling before the expert answers",
             description="Role: operator (own seat) or admin. 409 unless still dialling.",
             responses=SESSION_ACTION_ERRORS)
async def cancel(session_id: str, principal: Operator, hall: SessionHallDep, db: SessionDep) -> SessionOut:
    return await _act("cancel", session_id, hall, principal, db, machine.cancel)


@router.post("/sessions/{session_id}/drop-expert", response_model=SessionOut,
             summary="The expert leaves; citizen and operator stay connected",
             description="Role: operator (own seat) or admin.",
             responses=SESSION_ACTION_ERRORS)
async def drop_expert(session_id: str, principal: Operator, hall: SessionHallDep,
                      db: SessionDep) -> SessionOut:
    return await _act("drop_expert", session_id, hall, principal, db, machine.drop_expert)


@router.post("/sessions/{session_id}/leave", response_model=SessionOut,
             summary="The operator leaves; citizen and expert keep talking",
             description="Role: operator (own seat) or admin. The seat goes to wrap-up.",
             responses=SESSION_ACTION_ERRORS)
async def leave(session_id: str, principal: Operator, hall: SessionHallDep, db: SessionDep) -> SessionOut:
    return await _act("leave", session_id, hall, principal, db, machine.operator_leaves)


@router.post("/sessions/{session_id}/end", response_model=SessionOut,
             summary="Hang up everybody", description="Role: operator (own seat) or admin.",
             responses=SESSION_ACTION_ERRORS)
async def end(session_id: str, principal: Operator, hall: SessionHallDep, db: SessionDep) -> SessionOut:
    return await _act("end", session_id, hall, principal, db, machine.end_for_all)

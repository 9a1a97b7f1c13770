"""HTTP routes for calls in progress, the waiting queue and today's figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from hotline.auth.deps import require_role
from hotline.auth.principal import Principal
from hotline.auth.roles import READERS
from hotline.privacy import phone_for
from telephony.deps import get_hall
from telephony.hall import Hall

router = APIRouter(tags=["calls"])
Reader = Annotated[Principal, Depends(require_role(*READERS))]
HallDep = Annotated[Hall, Depends(get_hall)]


class ChannelOut(BaseModel):
    name: str = Field(examples=["PJSIP/1001-0000002a"])
    state: str | None
    caller_number: str | None
    bridge_id: str | None
    conference: str | None


class CallOut(BaseModel):
    linkedid: str
    citizen_number: str | None = Field(description="masked for the monitor role")
    started_at: datetime
    bridged_at: datetime | None
    three_way: bool
    channels: list[ChannelOut]


class BridgeOut(BaseModel):
    bridge_id: str
    technology: str | None
    party_count: int
    conference: str | None
    channels: list[str]


class CallsOut(BaseModel):
    calls: list[CallOut]
    bridges: list[BridgeOut]


class WaitingOut(BaseModel):
    queue: str
    position: int
    caller_number: str | None = Field(description="masked for the monitor role")
    joined_at: datetime
    waiting_seconds: float


class SeatFiguresOut(BaseModel):
    seat_id: str
    offered: int
    answered: int
    missed: int
    talk_seconds: int
    pause_seconds: float


class HallFiguresOut(BaseModel):
    day: date | None
    service_level_seconds: int
    received: int
    answered: int
    abandoned: int
    answered_within_service_level: int
    talk_seconds: int
    seats: list[SeatFiguresOut]


@router.get("/calls", response_model=CallsOut, summary="Calls in progress",
            description="Role: monitor, operator or admin. Channels grouped by Linkedid, and bridges.")
def calls(hall: HallDep, principal: Reader) -> CallsOut:
    book = hall.board.calls
    out: list[CallOut] = []
    for call in book.calls():
        channels = [book.channel(uid) for uid in call.channels]
        out.append(CallOut(
            linkedid=call.linkedid, citizen_number=phone_for(principal, call.citizen_number),
            started_at=call.started_at, bridged_at=call.bridged_at, three_way=call.three_way,
            channels=[ChannelOut(name=c.name, state=c.state_desc,
                                 caller_number=phone_for(principal, c.caller_number),
                                 bridge_id=c.bridge_id, conference=c.conference)
                      for c in channels if c is not None]))
    bridges = [BridgeOut(bridge_id=b.bridge_id, technology=b.technology, party_count=b.party_count,
                         conference=b.conference, channels=list(b.channels)) for b in book.bridges()]
    return CallsOut(calls=out, bridges=bridges)


@router.get("/queue", response_model=list[WaitingOut], summary="Callers waiting",
            description="Role: monitor, operator or admin. In queue order, with how long each waits.")
def queue(hall: HallDep, principal: Reader) -> list[WaitingOut]:
    now = hall.now()
    return [WaitingOut(queue=c.queue, position=c.position,
                       caller_number=phone_for(principal, c.caller_number), joined_at=c.joined_at,
                       waiting_seconds=round(c.waited(now).total_seconds(), 1))
            for c in hall.board.calls.queue()]


@router.get("/stats/today", response_model=HallFiguresOut, summary="Today's figures",
            description="Role: monitor, operator or admin. Counters since local midnight.")
def today(hall: HallDep, _principal: Reader) -> HallFiguresOut:
    figures = hall.stats.today(hall.now())
    h = figures.hall
    return HallFiguresOut(
        day=figures.day, service_level_seconds=figures.service_level_seconds, received=h.received,
        answered=h.answered, abandoned=h.abandoned, answered_within_service_level=h.answered_within_sl,
        talk_seconds=h.talk_seconds,
        seats=[SeatFiguresOut(seat_id=s.seat_id, offered=s.offered, answered=s.answered, missed=s.missed,
                              talk_seconds=s.talk_seconds, pause_seconds=round(s.pause_seconds, 1))
               for s in figures.seats])

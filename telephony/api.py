"""HTTP routes for calls in progress, the waiting queue and today's figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from hotline.auth.deps import ReaderDep as Reader
from hotline.auth.principal import Principal
from hotline.privacy import phone_for
from telephony.deps import get_hall, get_halls
from telephony.errors import HallNotFound
from telephony.hall import Hall, Halls

router = APIRouter(tags=["calls"])
WAIT_DECIMALS = 1
# Routes name the principal before the hall: 401/403 come before 503 bridge_not_running.
HallDep = Annotated[Hall, Depends(get_hall)]
HallsDep = Annotated[Halls, Depends(get_halls)]
# The error status these routes may answer besides 401/403 (the body is the API's error shape).
BRIDGE_DOWN = {503: {"description": "The AMI bridge is not running (bridge_not_running)"}}


class ChannelOut(BaseModel):
    name: str = Field(examples=["PJSIP/1001-0000002a"])
    state: str | None = Field(examples=["Up"])
    caller_number: str | None = Field(examples=["1007"])
    bridge_id: str | None = Field(examples=["6c3f5a2e-4b1d-4e0a-9f7c-2d8e1b0a9c11"])
    conference: str | None = Field(examples=[None])


class CallOut(BaseModel):
    hall: str = Field("main", description="the PBX carrying the call", examples=["main"])
    linkedid: str = Field(examples=["1764291600.42"])
    citizen_number: str | None = Field(description="masked for the monitor role", examples=["139****5678"])
    started_at: datetime = Field(examples=["2026-11-28T09:15:02+08:00"])
    bridged_at: datetime | None = Field(examples=["2026-11-28T09:15:14+08:00"])
    three_way: bool = Field(examples=[False])
    channels: list[ChannelOut]


class BridgeOut(BaseModel):
    bridge_id: str = Field(examples=["6c3f5a2e-4b1d-4e0a-9f7c-2d8e1b0a9c11"])
    technology: str | None = Field(examples=["simple_bridge"])
    party_count: int = Field(examples=[2])
    conference: str | None = Field(examples=[None])
    channels: list[str] = Field(examples=[["PJSIP/hotline-trunk-00000029", "PJSIP/1007-0000002a"]])


class CallsOut(BaseModel):
    calls: list[CallOut]
    bridges: list[BridgeOut]


class WaitingOut(BaseModel):
    hall: str = Field("main", description="the PBX whose queue the caller waits in", examples=["main"])
    queue: str = Field(examples=["hotline"])
    position: int = Field(examples=[1])
    caller_number: str | None = Field(description="masked for the monitor role", examples=["138****8000"])
    joined_at: datetime = Field(examples=["2026-11-28T09:16:40+08:00"])
    waiting_seconds: float = Field(examples=[23.4])


class SeatFiguresOut(BaseModel):
    seat_id: str = Field(examples=["07"])
    offered: int = Field(examples=[31])
    answered: int = Field(examples=[29])
    missed: int = Field(examples=[2])
    talk_seconds: int = Field(examples=[5820])
    pause_seconds: float = Field(examples=[1800.0])


class HallFiguresOut(BaseModel):
    day: date | None = Field(examples=["2026-11-28"])
    service_level_seconds: int = Field(examples=[20])
    received: int = Field(examples=[412])
    answered: int = Field(examples=[389])
    abandoned: int = Field(examples=[23])
    answered_within_service_level: int = Field(examples=[351])
    talk_seconds: int = Field(examples=[98640])
    seats: list[SeatFiguresOut]


@router.get("/calls", response_model=CallsOut, summary="Calls in progress",
            description="Role: monitor, operator or admin. Channels grouped by Linkedid, and bridges.",
            responses=BRIDGE_DOWN)
async def calls(principal: Reader, halls: HallsDep) -> CallsOut:
    out: list[CallOut] = []
    bridges: list[BridgeOut] = []
    for hall in halls:
        found, hall_bridges = _calls_of(hall, principal)
        out += found
        bridges += hall_bridges
    return CallsOut(calls=out, bridges=bridges)


def _calls_of(hall: Hall, principal: Principal) -> tuple[list[CallOut], list[BridgeOut]]:
    """One PBX's calls in progress and bridges."""
    book = hall.calls
    out: list[CallOut] = []
    for call in book.calls():
        channels = [book.channel_by_name(name) for name in call.channels]  # CallView lists names
        out.append(CallOut(
            hall=hall.pbx, linkedid=call.linkedid, citizen_number=phone_for(principal, call.citizen_number),
            started_at=call.started_at, bridged_at=call.bridged_at, three_way=call.three_way,
            channels=[ChannelOut(name=c.name, state=c.state_desc,
                                 caller_number=phone_for(principal, c.caller_number),
                                 bridge_id=c.bridge_id, conference=c.conference)
                      for c in channels if c is not None]))
    bridges = [BridgeOut(bridge_id=b.bridge_id, technology=b.technology, party_count=b.party_count,
                         conference=b.conference, channels=list(b.channels)) for b in book.bridges()]
    return out, bridges


def waiting_list(hall: Hall, principal: Principal) -> list[WaitingOut]:
    """Callers waiting, in queue order, as `principal` may see them (the route and the stream)."""
    now = hall.now()
    return [WaitingOut(hall=hall.pbx, queue=c.queue, position=c.position,
                       caller_number=phone_for(principal, c.caller_number), joined_at=c.joined_at,
                       waiting_seconds=round(c.waited(now).total_seconds(), WAIT_DECIMALS))
            for c in hall.calls.queue()]


@router.get("/queue", response_model=list[WaitingOut], summary="Callers waiting",
            description="Role: monitor, operator or admin. In queue order, with how long each waits.",
            responses=BRIDGE_DOWN)
async def queue(principal: Reader, halls: HallsDep) -> list[WaitingOut]:
    return waiting_of_all(halls, principal)


def waiting_of_all(halls: Halls, principal: Principal) -> list[WaitingOut]:
    """Every PBX's waiting callers, hall by hall, each hall in queue order."""
    return [w for hall in halls for w in waiting_list(hall, principal)]


@router.get("/stats/today", response_model=HallFiguresOut, summary="Today's figures",
            description="Role: monitor, operator or admin. Counters since local midnight, of every "
                        "hall together.",
            responses=BRIDGE_DOWN)
async def today(_principal: Reader, halls: HallsDep) -> HallFiguresOut:
    return _figures_total([_figures_of(h) for h in halls])


@router.get("/stats/today/{hall}", response_model=HallFiguresOut, summary="Today's figures of one hall",
            description="Role: monitor, operator or admin. Counters since local midnight of the hall "
                        "of one PBX ([pbx NAME] in hotline.conf).",
            responses={**BRIDGE_DOWN, 404: {"description": "No such hall (hall_not_found)"}})
async def today_of_hall(_principal: Reader, halls: HallsDep,
                        hall: Annotated[str, Path(max_length=32, examples=["main"])]) -> HallFiguresOut:
    one = halls.named(hall)
    if one is None:
        raise HallNotFound(f"没有名为 {hall!r} 的大厅")
    return _figures_of(one)


def _figures_total(parts: list[HallFiguresOut]) -> HallFiguresOut:
    """Every hall's counters added up (one hall: its own)."""
    first = parts[0]
    if len(parts) == 1:
        return first
    total = {key: sum(getattr(p, key) for p in parts) for key in SUMMED}
    return HallFiguresOut(day=first.day, service_level_seconds=first.service_level_seconds, **total,
                          seats=[seat for p in parts for seat in p.seats])


SUMMED = ("received", "answered", "abandoned", "answered_within_service_level", "talk_seconds")


def _figures_of(hall: Hall) -> HallFiguresOut:
    figures = hall.stats.today(hall.now())
    h = figures.hall
    return HallFiguresOut(
        day=figures.day, service_level_seconds=figures.service_level_seconds, received=h.received,
        answered=h.answered, abandoned=h.abandoned, answered_within_service_level=h.answered_within_sl,
        talk_seconds=h.talk_seconds,
        seats=[SeatFiguresOut(seat_id=s.seat_id, offered=s.offered, answered=s.answered, missed=s.missed,
                              talk_seconds=s.talk_seconds, pause_seconds=round(s.pause_seconds, 1))
               for s in figures.seats])

"""GET /status: the whole hall in one answer, for wall screens that poll it every second."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from hotline.api.deps import ReaderDep
from hotline.api.routes.health import BridgeHealth, bridges_of
from hotline.status import HallStatus, counts_cache, hall_status, live_cache

router = APIRouter(tags=["status"])

BODY_RESOLUTION_S = 0.1
BODY_STATE_KEY = "status_body"
JSON_MEDIA_TYPE = "application/json"


class AmiOut(BaseModel):
    connected: bool
    pbx_uptime_seconds: float | None = Field(None, examples=[86400.0])
    node: str | None = Field(None, description="the node that answered", examples=["hotline-a:8345"])
    bridges: list[BridgeHealth] = Field(default_factory=list,
                                        description="each PBX's bridge and the node holding it")


class SeatsOut(BaseModel):
    total: int = Field(examples=[50])
    by_state: dict[str, int] = Field(
        description="every seat state, zeros included",
        examples=[{"offline": 2, "logged_out": 10, "available": 20, "ringing": 1, "on_call": 12,
                   "wrap_up": 2, "paused": 3}])
    stale: bool = Field(False, description="true while the link to Asterisk is down: the seats are "
                                           "counted as they were at stale_since", examples=[False])
    stale_since: datetime | None = Field(None, examples=[None])


class CallsOut(BaseModel):
    in_progress: int = Field(examples=[13])
    three_way: int = Field(examples=[1])


class QueueOut(BaseModel):
    waiting: int = Field(examples=[4])
    longest_wait_seconds: float | None = Field(description="null when nobody waits", examples=[37.5])


class VoicemailsOut(BaseModel):
    by_state: dict[str, int] = Field(examples=[{"new": 3, "needs_review": 2, "valid": 40, "invalid": 11}])


class CallbacksOut(BaseModel):
    by_state: dict[str, int] = Field(examples=[{"queued": 12, "claimed": 2, "closed": 80}])


class TodayOut(BaseModel):
    day: date = Field(examples=["2026-11-28"])
    received: int = Field(examples=[412])
    answered: int = Field(examples=[396])
    abandoned: int = Field(examples=[16])
    answer_rate: float | None = Field(description="answered / received; null before the first call",
                                      examples=[0.961])
    service_level: float | None = Field(description="answered within service_level_seconds / received",
                                        examples=[0.93])
    service_level_seconds: int = Field(examples=[15])
    average_speed_of_answer_seconds: float | None = Field(
        description="mean queue wait of today's answered calls, from the store", examples=[6.2])
    talk_seconds: int = Field(examples=[98100])


class StatusOut(BaseModel):
    generated_at: datetime = Field(examples=["2026-11-28T10:15:00+08:00"])
    ami: AmiOut
    seats: SeatsOut | None = Field(description="null when the service runs without the AMI bridge")
    calls: CallsOut | None
    queue: QueueOut | None
    voicemails: VoicemailsOut
    callbacks: CallbacksOut
    today: TodayOut | None = Field(description="today's live counters; null without the AMI bridge")


def status_out(status: HallStatus, state: object = None) -> StatusOut:
    seats, calls, queue, today = status.seats, status.calls, status.queue, status.today
    return StatusOut(
        generated_at=status.generated_at,
        ami=AmiOut(connected=status.ami_connected, pbx_uptime_seconds=status.pbx_uptime_seconds,
                   node=getattr(state, "node_id", None), bridges=bridges_of(state)),
        seats=SeatsOut(total=seats.total, by_state=seats.by_state, stale=seats.stale_since is not None,
                       stale_since=seats.stale_since) if seats else None,
        calls=CallsOut(in_progress=calls.in_progress, three_way=calls.three_way) if calls else None,
        queue=QueueOut(waiting=queue.waiting, longest_wait_seconds=queue.longest_wait_seconds)
        if queue else None,
        voicemails=VoicemailsOut(by_state=status.voicemails_by_state),
        callbacks=CallbacksOut(by_state=status.callbacks_by_state),
        today=TodayOut(
            day=today.day, received=today.received, answered=today.answered, abandoned=today.abandoned,
            answer_rate=today.answer_rate, service_level=today.service_level,
            service_level_seconds=today.service_level_seconds,
            average_speed_of_answer_seconds=today.average_speed_of_answer_seconds,
            talk_seconds=today.talk_seconds) if today else None,
    )


async def current_status(request: Request) -> HallStatus:
    """The hall's summary for this app (shared with /metrics)."""
    state = request.app.state
    return await hall_status(state.config, getattr(state, "hall", None), state.ami_status,
                             counts_cache(state), live_cache(state))


class StatusBodyCache:
    """The encoded answer, rebuilt when the board moved, the AMI link changed, or
    `BODY_RESOLUTION_S` passed (the queue's longest wait and the store counts move with time).

    Why: wall screens poll this route hundreds of times a second between two changes;
    serialising once per change (and at most ten times a second) instead of per request.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._key: tuple[object, ...] | None = None
        self._body = b""

    async def get(self, request: Request) -> bytes:
        state = request.app.state
        hall = getattr(state, "hall", None)
        leases = getattr(state, "bridge_leases", None) or {}
        key = (hall.board.version if hall is not None else None,
               bool(getattr(state.ami_status, "connected", False)),
               tuple((lease.held, lease.holder) for lease in leases.values()),
               math.floor(self._clock() / BODY_RESOLUTION_S))
        if key != self._key:
            body = status_out(await current_status(request), state).model_dump_json().encode()
            self._key, self._body = key, body
        return self._body


def body_cache(state: Any) -> StatusBodyCache:
    cache = getattr(state, BODY_STATE_KEY, None)
    if cache is None:
        cache = StatusBodyCache()
        setattr(state, BODY_STATE_KEY, cache)
    return cache


@router.get("/status", response_model=StatusOut, summary="The hall at a glance",
            description="Role: monitor, operator or admin. Seats by state, calls in progress, callers "
                        "waiting and the longest wait, voicemails and callbacks by state, today's "
                        "figures. Store counts are at most 1 s old, the rest at most 0.1 s "
                        "(generated_at says when). No citizen numbers.")
async def status(request: Request, _principal: ReaderDep) -> Response:
    return Response(await body_cache(request.app.state).get(request), media_type=JSON_MEDIA_TYPE)

"""Reach the running bridge from a route; a clear 503 when the service runs without it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from telephony.errors import BRIDGE_NOT_RUNNING, BridgeNotRunning

if TYPE_CHECKING:
    from telephony.hall import Hall, Halls


async def get_hall(request: Request) -> Hall:
    # async: a plain attribute read, not worth a hop to a worker thread
    hall = getattr(request.app.state, "hall", None)
    if hall is None:
        raise BridgeNotRunning(BRIDGE_NOT_RUNNING)
    return hall


async def get_halls(request: Request) -> Halls:
    """Every PBX's Hall (a single Hall set by a test or an older caller counts as one)."""
    from telephony.hall import Halls

    halls = getattr(request.app.state, "halls", None)
    if halls is None:
        halls = Halls([await get_hall(request)])
    return halls


async def get_session_hall(request: Request, session_id: str) -> Hall:
    """The Hall holding three-way call `session_id` (ids are unique over all PBXs); an unknown id
    goes to the first Hall, which answers session_not_found as before."""
    halls = await get_halls(request)
    for hall in halls:
        if any(s.session_id == session_id for s in hall.threeway.sessions()):
            return hall
    return halls.first

"""Reach the running bridge from a route; a clear 503 when the service runs without it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from telephony.errors import BRIDGE_NOT_RUNNING, BridgeNotRunning

if TYPE_CHECKING:
    from telephony.hall import Hall


async def get_hall(request: Request) -> Hall:
    # async: a plain attribute read, not worth a hop to a worker thread
    hall = getattr(request.app.state, "hall", None)
    if hall is None:
        raise BridgeNotRunning(BRIDGE_NOT_RUNNING)
    return hall

"""Reach the running bridge from a route; a clear 503 when the service runs without it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import HTTPException, Request, status

if TYPE_CHECKING:
    from telephony.hall import Hall


async def get_hall(request: Request) -> Hall:
    # async: a plain attribute read, not worth a hop to a worker thread
    hall = getattr(request.app.state, "hall", None)
    if hall is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail={
            "code": "bridge_not_running", "message": "the AMI bridge is not running"})
    return hall

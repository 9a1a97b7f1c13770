"""What the seat routes are handed: the live seat board and the seat service (a "desk").

The composition root (hotline/wiring.py) puts a SeatDesk on `app.state` under SEAT_DESK_KEY when
the bridge runs; the routes take it through `get_seat_desk` and never reach the hall itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from seat_manager.errors import BRIDGE_NOT_RUNNING, BridgeNotRunning
from seat_manager.service import SeatService
from seat_manager.state import SeatBoard

SEAT_DESK_KEY = "seat_desk"


@dataclass(frozen=True, slots=True)
class SeatDesk:
    """The seat board to read and the service that acts on seats, of one running hall."""

    board: SeatBoard
    service: SeatService


async def get_seat_desk(request: Request) -> SeatDesk:
    # async: a plain attribute read, not worth a hop to a worker thread
    desk = getattr(request.app.state, SEAT_DESK_KEY, None)
    if desk is None:
        raise BridgeNotRunning(BRIDGE_NOT_RUNNING)
    return desk

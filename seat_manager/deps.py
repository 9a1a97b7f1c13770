"""What the seat routes are handed: each PBX's live seat board and seat service (a "desk").

The composition root (hotline/wiring.py) puts a SeatDesk on `app.state` under SEAT_DESK_KEY when
the bridge runs; the routes take it through `get_seat_desk` and never reach the hall itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fastapi import Request

from seat_manager.errors import BRIDGE_NOT_RUNNING, BridgeNotRunning
from seat_manager.service import SeatService
from seat_manager.state import SeatBoard

SEAT_DESK_KEY = "seat_desk"


@dataclass(frozen=True, slots=True)
class SeatFloor:
    """One PBX's seats: the board to read, the service acting on them over that PBX's AMI, and
    the hall's names the answers carry."""

    board: SeatBoard
    service: SeatService
    pbx: str
    hall_name: str


class SeatDesk:
    """Every PBX's seats, the first first. A 工号 is unique over all PBXs, so a seat's floor (and
    so the PBX its actions go to) is found by its id alone."""

    def __init__(self, floors: Iterable[SeatFloor]) -> None:
        self.floors = tuple(floors)

    def __iter__(self) -> Iterator[SeatFloor]:
        return iter(self.floors)

    def floor_of(self, seat_id: str) -> SeatFloor:
        """The seat's own floor; an unknown 工号 goes to the first, which answers seat_not_found."""
        return next((f for f in self.floors if seat_id in f.service.directory), self.floors[0])

    @property
    def version(self) -> tuple[tuple[int, int], ...]:
        """Changes whenever any board changes (the seat list's cache key)."""
        return tuple((id(f.board), f.board.version) for f in self.floors)


async def get_seat_desk(request: Request) -> SeatDesk:
    # async: a plain attribute read, not worth a hop to a worker thread
    desk = getattr(request.app.state, SEAT_DESK_KEY, None)
    if desk is None:
        raise BridgeNotRunning(BRIDGE_NOT_RUNNING)
    return desk

"""Seat operations (log in, log out, pause, resume) carried out by Asterisk's queue.

The service asks Asterisk's queue (through the `QueueControl` port: add, remove, pause a
member) and then waits for the queue's own event to reach the seat picture (the `SeatPicture`
port), so the answer is what Asterisk did, not what we hoped it would do. The hall implements
both ports (telephony/seat_ports.py, telephony/monitor.py) and hands them in.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from hotline.config import HotlineConfig
from seat_manager.directory import Seat as DirectorySeat
from seat_manager.directory import SeatDirectory
from seat_manager.errors import AlreadyLoggedIn, InvalidReason, NotLoggedIn, NotPaused, SeatNotFound
from seat_manager.ports import QueueControl, SeatPicture
from seat_manager.state import SeatView

CONFIRM_TIMEOUT_S: Final = 3.0
PAUSE_REASON_MAX: Final = 120
UNPRINTABLE: Final = frozenset({"Cc"})
"""Unicode categories a pause reason may not contain: control characters (as PauseIn's pattern)."""


def build_directory(config: HotlineConfig) -> SeatDirectory:
    """Member interfaces are Local channels so the caller hears the operator's 工号 first."""
    return SeatDirectory([DirectorySeat.standard(seat.seat_id, seat.extension)
                          for seat in config.seats])


@dataclass(frozen=True)
class SeatOutcome:
    seat: SeatView
    pbx_message: str | None
    confirmed: bool


class SeatService:
    def __init__(self, config: HotlineConfig, queue: QueueControl, picture: SeatPicture,
                 directory: SeatDirectory) -> None:
        self.queue = config.queue.name
        self.queue_control = queue
        self.picture = picture
        self.directory = directory

    def _seat(self, seat_id: str) -> tuple[DirectorySeat, SeatView]:
        seat = self.directory.get(seat_id)
        view = self.picture.seat(seat_id)
        if seat is None or view is None:
            raise SeatNotFound(f"hotline.conf 中没有工号为 {seat_id!r} 的坐席")
        return seat, view

    async def _confirm(self, seat_id: str, check: Callable[[SeatView], bool]) -> tuple[SeatView, bool]:
        def done() -> bool:
            view = self.picture.seat(seat_id)
            return view is not None and check(view)

        confirmed = await self.picture.wait_until(done, CONFIRM_TIMEOUT_S)
        view = self.picture.seat(seat_id)
        assert view is not None
        return view, confirmed

    async def login(self, seat_id: str) -> SeatOutcome:
        seat, view = self._seat(seat_id)
        if self.queue in view.queues:
            raise AlreadyLoggedIn(f"坐席 {seat_id} 已经签入")
        message = await self.queue_control.add_member(self.queue, seat)
        view, confirmed = await self._confirm(seat_id, lambda v: self.queue in v.queues)
        return SeatOutcome(view, message, confirmed)

    async def logout(self, seat_id: str) -> SeatOutcome:
        seat, view = self._seat(seat_id)
        if self.queue not in view.queues:
            raise NotLoggedIn(f"坐席 {seat_id} 尚未签入")
        message = await self.queue_control.remove_member(self.queue, seat)
        view, confirmed = await self._confirm(seat_id, lambda v: self.queue not in v.queues)
        return SeatOutcome(view, message, confirmed)

    async def pause(self, seat_id: str, reason: str) -> SeatOutcome:
        reason = " ".join(reason.split())
        if not reason or len(reason) > PAUSE_REASON_MAX:
            raise InvalidReason(f"示忙须填写 1 到 {PAUSE_REASON_MAX} 个字的原因")
        if any(unicodedata.category(char) in UNPRINTABLE for char in reason):
            # A NUL or other control character could never reach Asterisk (nor a PostgreSQL
            # text column): refuse it here rather than fail with a 500 on the way.
            raise InvalidReason("示忙原因不能包含控制字符")
        seat, view = self._seat(seat_id)
        if self.queue not in view.queues:
            raise NotLoggedIn(f"坐席 {seat_id} 尚未签入")
        message = await self.queue_control.pause_member(self.queue, seat, True, reason)
        view, confirmed = await self._confirm(
            seat_id, lambda v: v.paused and v.pause_reason == reason)
        return SeatOutcome(view, message, confirmed)

    async def resume(self, seat_id: str) -> SeatOutcome:
        seat, view = self._seat(seat_id)
        if self.queue not in view.queues:
            raise NotLoggedIn(f"坐席 {seat_id} 尚未签入")
        if not view.paused:
            raise NotPaused(f"坐席 {seat_id} 不在示忙状态")
        message = await self.queue_control.pause_member(self.queue, seat, False)
        view, confirmed = await self._confirm(seat_id, lambda v: not v.paused)
        return SeatOutcome(view, message, confirmed)

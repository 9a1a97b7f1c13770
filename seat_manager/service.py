"""Seat operations (log in, log out, pause, resume) carried out by Asterisk's queue.

The service asks Asterisk (QueueAdd / QueueRemove / QueuePause) and then waits for the
queue's own event to reach the seat board, so the answer is what Asterisk did, not what we
hoped it would do.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from hotline.config import HotlineConfig
from seat_manager.directory import Seat as DirectorySeat
from seat_manager.directory import SeatDirectory
from seat_manager.errors import (
    AlreadyLoggedIn,
    InvalidReason,
    NotLoggedIn,
    NotPaused,
    PbxRefused,
    PbxTimeout,
    PbxUnreachable,
    SeatNotFound,
)
from seat_manager.state import SeatView
from telephony.ami import AmiActionError, AmiClient, AmiNotConnected, AmiTimeout
from telephony.monitor import HallMonitor

SEAT_CONTEXT: Final = "hotline-seat"
CONFIRM_TIMEOUT_S: Final = 3.0
PAUSE_REASON_MAX: Final = 120
UNPRINTABLE: Final = frozenset({"Cc"})
"""Unicode categories a pause reason may not contain: control characters (as PauseIn's pattern)."""


def build_directory(config: HotlineConfig) -> SeatDirectory:
    """Member interfaces are Local channels so the caller hears the operator's 工号 first."""
    return SeatDirectory([DirectorySeat.standard(seat.seat_id, seat.extension, SEAT_CONTEXT)
                          for seat in config.seats])


@dataclass(frozen=True)
class SeatOutcome:
    seat: SeatView
    pbx_message: str | None
    confirmed: bool


class SeatService:
    def __init__(self, config: HotlineConfig, client: AmiClient, monitor: HallMonitor,
                 directory: SeatDirectory) -> None:
        self.queue = config.queue.name
        self.client = client
        self.monitor = monitor
        self.directory = directory

    def _seat(self, seat_id: str) -> tuple[DirectorySeat, SeatView]:
        seat = self.directory.get(seat_id)
        view = self.monitor.board.seat(seat_id)
        if seat is None or view is None:
            raise SeatNotFound(f"hotline.conf 中没有工号为 {seat_id!r} 的坐席")
        return seat, view

    async def _ask(self, action: str, **headers: str) -> str | None:
        try:
            response = await self.client.send_action(action, **headers)
        except AmiNotConnected as exc:
            raise PbxUnreachable(f"无法连接交换机：{exc}") from None
        except AmiTimeout as exc:
            raise PbxTimeout(f"交换机未应答：{exc}") from None
        except AmiActionError as exc:
            reason = exc.message.get("Message") or "未说明原因"
            raise PbxRefused(f"Asterisk 拒绝了 {action}：{reason}") from None
        return response.get("Message")

    async def _confirm(self, seat_id: str, check: Callable[[SeatView], bool]) -> tuple[SeatView, bool]:
        def done() -> bool:
            view = self.monitor.board.seat(seat_id)
            return view is not None and check(view)

        confirmed = await self.monitor.wait_until(done, CONFIRM_TIMEOUT_S)
        view = self.monitor.board.seat(seat_id)
        assert view is not None
        return view, confirmed

    async def login(self, seat_id: str) -> SeatOutcome:
        seat, view = self._seat(seat_id)
        if self.queue in view.queues:
            raise AlreadyLoggedIn(f"坐席 {seat_id} 已经签入")
        message = await self._ask("QueueAdd", Queue=self.queue, Interface=seat.interface,
                                  StateInterface=seat.state_interface, MemberName=seat.member_name,
                                  Paused="false")
        view, confirmed = await self._confirm(seat_id, lambda v: self.queue in v.queues)
        return SeatOutcome(view, message, confirmed)

    async def logout(self, seat_id: str) -> SeatOutcome:
        seat, view = self._seat(seat_id)
        if self.queue not in view.queues:
            raise NotLoggedIn(f"坐席 {seat_id} 尚未签入")
        message = await self._ask("QueueRemove", Queue=self.queue, Interface=seat.interface)
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
        message = await self._ask("QueuePause", Queue=self.queue, Interface=seat.interface,
                                  Paused="true", Reason=reason)
        view, confirmed = await self._confirm(
            seat_id, lambda v: v.paused and v.pause_reason == reason)
        return SeatOutcome(view, message, confirmed)

    async def resume(self, seat_id: str) -> SeatOutcome:
        seat, view = self._seat(seat_id)
        if self.queue not in view.queues:
            raise NotLoggedIn(f"坐席 {seat_id} 尚未签入")
        if not view.paused:
            raise NotPaused(f"坐席 {seat_id} 不在示忙状态")
        message = await self._ask("QueuePause", Queue=self.queue, Interface=seat.interface,
                                  Paused="false")
        view, confirmed = await self._confirm(seat_id, lambda v: not v.paused)
        return SeatOutcome(view, message, confirmed)

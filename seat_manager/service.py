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
from seat_manager.state import SeatView
from telephony.ami import AmiActionError, AmiClient, AmiNotConnected, AmiTimeout
from telephony.monitor import HallMonitor

SEAT_CONTEXT: Final = "hotline-seat"
CONFIRM_TIMEOUT_S: Final = 3.0
PAUSE_REASON_MAX: Final = 120
UNPRINTABLE: Final = frozenset({"Cc"})
"""Unicode categories a pause reason may not contain: control characters (as PauseIn's pattern)."""


class SeatError(Exception):
    """A refused seat operation; `code` is the stable API error code."""

    status = 409

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class UnknownSeat(SeatError):
    status = 404


class PbxUnavailable(SeatError):
    status = 503


class InvalidRequest(SeatError):
    status = 422


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
            raise UnknownSeat("seat_not_found", f"no seat with 工号 {seat_id!r} in hotline.conf")
        return seat, view

    async def _ask(self, action: str, **headers: str) -> str | None:
        try:
            response = await self.client.send_action(action, **headers)
        except AmiNotConnected as exc:
            raise PbxUnavailable("pbx_unreachable", f"the PBX is unreachable: {exc}") from None
        except AmiTimeout as exc:
            raise PbxUnavailable("pbx_timeout", f"the PBX did not answer: {exc}") from None
        except AmiActionError as exc:
            reason = exc.message.get("Message") or "no reason given"
            raise SeatError("pbx_refused", f"Asterisk refused {action}: {reason}") from None
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
            raise SeatError("already_logged_in", f"seat {seat_id} is already logged in")
        message = await self._ask("QueueAdd", Queue=self.queue, Interface=seat.interface,
                                  StateInterface=seat.state_interface, MemberName=seat.member_name,
                                  Paused="false")
        view, confirmed = await self._confirm(seat_id, lambda v: self.queue in v.queues)
        return SeatOutcome(view, message, confirmed)

    async def logout(self, seat_id: str) -> SeatOutcome:
        seat, view = self._seat(seat_id)
        if self.queue not in view.queues:
            raise SeatError("not_logged_in", f"seat {seat_id} is not logged in")
        message = await self._ask("QueueRemove", Queue=self.queue, Interface=seat.interface)
        view, confirmed = await self._confirm(seat_id, lambda v: self.queue not in v.queues)
        return SeatOutcome(view, message, confirmed)

    async def pause(self, seat_id: str, reason: str) -> SeatOutcome:
        reason = " ".join(reason.split())
        if not reason or len(reason) > PAUSE_REASON_MAX:
            raise InvalidRequest("invalid_reason",
                                 f"a pause needs a reason of 1 to {PAUSE_REASON_MAX} characters")
        if any(unicodedata.category(char) in UNPRINTABLE for char in reason):
            # A NUL or other control character could never reach Asterisk (nor a PostgreSQL
            # text column): refuse it here rather than fail with a 500 on the way.
            raise InvalidRequest("invalid_reason",
                                 "a pause reason cannot contain control characters")
        seat, view = self._seat(seat_id)
        if self.queue not in view.queues:
            raise SeatError("not_logged_in", f"seat {seat_id} is not logged in")
        message = await self._ask("QueuePause", Queue=self.queue, Interface=seat.interface,
                                  Paused="true", Reason=reason)
        view, confirmed = await self._confirm(
            seat_id, lambda v: v.paused and v.pause_reason == reason)
        return SeatOutcome(view, message, confirmed)

    async def resume(self, seat_id: str) -> SeatOutcome:
        seat, view = self._seat(seat_id)
        if self.queue not in view.queues:
            raise SeatError("not_logged_in", f"seat {seat_id} is not logged in")
        if not view.paused:
            raise SeatError("not_paused", f"seat {seat_id} is not paused")
        message = await self._ask("QueuePause", Queue=self.queue, Interface=seat.interface,
                                  Paused="false")
        view, confirmed = await self._confirm(seat_id, lambda v: not v.paused)
        return SeatOutcome(view, message, confirmed)

"""The hall's side of the callback port (voicemail.callbacks.dial.CallbackDialler).

Rings the staff member's seat phone by AMI Originate into hotline-callback, which calls the
citizen once the seat answers, and says whether the seat is free, from the seat board. The
hall does not import voicemail: the composition root hands in the port's failure type
(`failed`), which this raises when Asterisk refused or did not answer.
"""

from __future__ import annotations

from collections.abc import Callable

from ivr.names import CALLBACK_CONTEXT, CALLBACK_ID_VARIABLE, state_interface
from seat_manager.state import SeatBoard, SeatState
from telephony.ami import AmiClient, AmiError

SEAT_RING_SECONDS = 30  # how long the staff member's own phone rings before the Originate fails
MS_PER_SECOND = 1000
BUSY_SEAT_STATES = frozenset({SeatState.OFFLINE, SeatState.RINGING, SeatState.ON_CALL})


class HallCallbackDialler:
    """A callback dialled over the hall's AMI client, its seat checked on the hall's board."""

    def __init__(self, client: AmiClient, board: SeatBoard,
                 failed: Callable[[str], Exception]) -> None:
        self.client = client
        self.board = board
        self.failed = failed

    def seat_busy(self, seat_id: str) -> str | None:
        view = self.board.seat(seat_id)
        if view is None or view.state not in BUSY_SEAT_STATES:
            return None
        return view.state.value

    async def ring_seat_then_citizen(self, extension: str, digits: str,
                                     callback_id: int) -> str | None:
        try:
            response = await self.client.send_action(
                "Originate", Channel=state_interface(extension), Context=CALLBACK_CONTEXT,
                Exten=digits, Priority="1", CallerID=f'"回访 {digits}" <{digits}>',
                Timeout=str(SEAT_RING_SECONDS * MS_PER_SECOND),
                Variable=f"{CALLBACK_ID_VARIABLE}={callback_id}", Async="true")
        except AmiError as exc:
            raise self.failed(str(exc)) from exc
        return response.message.action_id

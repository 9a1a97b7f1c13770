"""Dial a callback from the staff member's own seat: AMI Originate rings the seat phone first;
when it answers, the dialplan (hotline-callback) calls the citizen through the trunk.

The call is an ordinary call of the seat's phone channel, so the seat board follows it.
"""

from __future__ import annotations

import re

from hotline.config import HotlineConfig, normalise_phone
from ivr.names import CALLBACK_CONTEXT, CALLBACK_ID_VARIABLE, state_interface
from seat_manager.state import SeatState
from telephony.ami import AmiClient, AmiError
from voicemail.callbacks.errors import DialFailed, SeatBusy, SeatNotFound, UndiallableNumber

SEAT_RING_SECONDS = 30  # how long the staff member's own phone rings before the Originate fails
MS_PER_SECOND = 1000
DIALLABLE = re.compile(r"^[0-9]{3,20}$")
BUSY_SEAT_STATES = frozenset({SeatState.OFFLINE, SeatState.RINGING, SeatState.ON_CALL})


def diallable(number: str) -> str:
    """The digits Asterisk dials, or UndiallableNumber (a number that is no phone number)."""
    digits = normalise_phone(number)
    if not DIALLABLE.match(digits):
        raise UndiallableNumber(f"号码 {number!r} 无法拨打")
    return digits


def seat_extension(config: HotlineConfig, seat_id: str) -> str:
    seat = config.seat(seat_id)
    if seat is None:
        raise SeatNotFound(f"没有工号为 {seat_id} 的坐席")
    return seat.extension


def check_seat_free(state: SeatState | None, seat_id: str) -> None:
    """The seat's phone must be registered and not already ringing or talking."""
    if state in BUSY_SEAT_STATES:
        raise SeatBusy(f"坐席 {seat_id} 现在不能接回访电话（状态：{state}）")


async def originate_callback(client: AmiClient, config: HotlineConfig, *, callback_id: int,
                             seat_id: str, number: str) -> str | None:
    """Ring the seat, then the citizen; returns the Originate's ActionID."""
    extension = seat_extension(config, seat_id)
    digits = diallable(number)
    try:
        response = await client.send_action(
            "Originate", Channel=state_interface(extension), Context=CALLBACK_CONTEXT,
            Exten=digits, Priority="1", CallerID=f'"回访 {digits}" <{digits}>',
            Timeout=str(SEAT_RING_SECONDS * MS_PER_SECOND),
            Variable=f"{CALLBACK_ID_VARIABLE}={callback_id}", Async="true")
    except AmiError as exc:
        raise DialFailed(f"Asterisk 未能发起呼叫：{exc}") from exc
    return response.message.action_id

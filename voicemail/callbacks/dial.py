"""Dial a callback from the staff member's own seat: the hall rings the seat phone first; when it
answers, the dialplan (hotline-callback) calls the citizen through the trunk.

Voicemail and the hall do not import each other: the callback routes dial through the
`CallbackDialler` port below, which the hall implements (telephony/callback_dial.py) and the
composition root hands in. The call is an ordinary call of the seat's phone channel, so the
seat board follows it.
"""

from __future__ import annotations

import re
from typing import Protocol

from hotline.config import HotlineConfig, normalise_phone
from voicemail.callbacks.errors import DialFailed, SeatBusy, SeatNotFound, UndiallableNumber

DIALLABLE = re.compile(r"^[0-9]{3,20}$")


def dial_failed(reason: str) -> DialFailed:
    """The port's failure (handed to the hall's dialler by the composition root): the refusal
    the routes answer with, its reason told in Chinese."""
    return DialFailed(f"Asterisk 未能发起呼叫：{reason}")


class CallbackDialler(Protocol):
    """What a callback needs of the hall: whether the seat can take it, and the call itself."""

    def seat_busy(self, seat_id: str) -> str | None:
        """None when the seat's phone can take a callback now, else what it is doing."""
        ...

    async def ring_seat_then_citizen(self, extension: str, digits: str,
                                     callback_id: int) -> str | None:
        """Ring the seat's phone, then (once answered) the citizen; the Originate's ActionID.

        Raises DialFailed when Asterisk refused or did not answer."""
        ...


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


def check_seat_free(dialler: CallbackDialler, seat_id: str) -> None:
    """The seat's phone must be registered and not already ringing or talking."""
    state = dialler.seat_busy(seat_id)
    if state is not None:
        raise SeatBusy(f"坐席 {seat_id} 现在不能接回访电话（状态：{state}）")


async def originate_callback(dialler: CallbackDialler, config: HotlineConfig, *, callback_id: int,
                             seat_id: str, number: str) -> str | None:
    """Ring the seat, then the citizen; returns the Originate's ActionID."""
    extension = seat_extension(config, seat_id)
    digits = diallable(number)
    return await dialler.ring_seat_then_citizen(extension, digits, callback_id)

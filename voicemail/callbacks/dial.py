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
from voicemail.callbacks.service import Conflict, Invalid, NotFound

DIALLABLE = re.compile(r"^[0-9]{3,20}$")


class DialFailed(Exception):
    """Asterisk refused or did not answer the Originate."""


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
    """The digits Asterisk dials, or Invalid (a number that is no phone number)."""
    digits = normalise_phone(number)
    if not DIALLABLE.match(digits):
        raise Invalid(f"the number {number!r} cannot be dialled", "undiallable_number")
    return digits


def seat_extension(config: HotlineConfig, seat_id: str) -> str:
    seat = config.seat(seat_id)
    if seat is None:
        raise NotFound(f"no seat with 工号 {seat_id}", "seat_not_found")
    return seat.extension


def check_seat_free(dialler: CallbackDialler, seat_id: str) -> None:
    """The seat's phone must be registered and not already ringing or talking."""
    state = dialler.seat_busy(seat_id)
    if state is not None:
        raise Conflict(f"seat {seat_id} cannot take a callback now (it is {state})", "seat_busy")


async def originate_callback(dialler: CallbackDialler, config: HotlineConfig, *, callback_id: int,
                             seat_id: str, number: str) -> str | None:
    """Ring the seat, then the citizen; returns the Originate's ActionID."""
    extension = seat_extension(config, seat_id)
    digits = diallable(number)
    return await dialler.ring_seat_then_citizen(extension, digits, callback_id)

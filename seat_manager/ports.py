"""What seats need from the hall above them, stated as ports the hall implements.

Seats stand below the hall: the seat board reads the hall's call model, and the seat service
asks the hall's queue, without importing telephony. Telephony implements these protocols
(`telephony/seat_ports.py`, `telephony/calls.py`'s CallBook); the hall hands them in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from seat_manager.directory import Seat

if TYPE_CHECKING:
    from seat_manager.state import SeatView


class PhoneChannel(Protocol):
    """A live channel as the call model last saw it (what the board reads of a seat phone's)."""

    @property
    def name(self) -> str: ...
    @property
    def linkedid(self) -> str: ...
    @property
    def state(self) -> int | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def connected_number(self) -> str | None: ...
    @property
    def connected_name(self) -> str | None: ...


class ChannelReader(Protocol):
    """The hall's call model, read-only: the board derives ringing and talking from it."""

    def channel(self, uniqueid: str) -> PhoneChannel | None: ...
    def channel_by_name(self, name: str) -> PhoneChannel | None: ...
    def in_multiparty(self, uniqueid: str) -> bool: ...


class QueueControl(Protocol):
    """Asterisk's queue asked to change a member; each answers Asterisk's message.

    A refusal, an unreachable PBX or a missed answer is raised as a seat refusal
    (`seat_manager.errors`: PbxRefused, PbxUnreachable, PbxTimeout), so the seat service never
    sees the AMI."""

    async def add_member(self, queue: str, seat: Seat) -> str | None: ...
    async def remove_member(self, queue: str, seat: Seat) -> str | None: ...
    async def pause_member(self, queue: str, seat: Seat, paused: bool,
                           reason: str | None = None) -> str | None: ...


class SeatPicture(Protocol):
    """The seat board as the hall keeps it live: read a seat, wait for the next events."""

    def seat(self, seat_id: str) -> SeatView | None: ...

    async def wait_until(self, predicate: Callable[[], bool], timeout: float) -> bool: ...

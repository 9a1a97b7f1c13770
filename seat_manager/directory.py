"""Who is who at the PBX: maps every Asterisk name a seat appears under back to the seat.

A seat shows up under several names: its PJSIP endpoint ("1001"), its device ("PJSIP/1001"),
its queue member name ("01"), its member interface (the project adds members as the Local
channel "Local/01@hotline-seat" so the caller hears the seat's number before bridging), its
state interface ("PJSIP/1001") and the channels of all of these ("PJSIP/1001-0000002a",
"Local/01@hotline-seat-0000001c;1"). Everything else in seat_manager resolves through here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ivr.names import SEAT_CONTEXT

PJSIP_TECH = "PJSIP/"
LOCAL_TECH = "Local/"

# "<device>-<8 hex digits>" then ";1"/";2" for Local halves, maybe a "<ZOMBIE>"/"<MASQ>" tag.
_CHANNEL_NAME = re.compile(r"^(?P<device>.+)-[0-9a-fA-F]{8}(?:;\d+)?(?:<[A-Z]+>)?$")


def device_of_interface(interface: str) -> str:
    """The device name Asterisk reports for a member interface.

    Local interfaces may carry dial options ("Local/01@hotline-seat/n"); their device state and
    channel names use the bare "Local/01@hotline-seat".
    """
    if interface.startswith(LOCAL_TECH) and "@" in interface:
        head, _, tail = interface.partition("@")
        return f"{head}@{tail.split('/', 1)[0]}"
    return interface


def device_of_channel(channel: str) -> str | None:
    """The device part of a channel name ("PJSIP/1001-0000002a" -> "PJSIP/1001")."""
    match = _CHANNEL_NAME.match(channel)
    return match.group("device") if match else None


@dataclass(frozen=True, slots=True)
class Seat:
    """One operator position and the names it has at the PBX."""

    seat_id: str
    endpoint: str
    member_name: str
    interface: str
    state_interface: str

    @property
    def device(self) -> str:
        """The seat phone's device ("PJSIP/1001")."""
        return f"{PJSIP_TECH}{self.endpoint}"

    @property
    def state_devices(self) -> frozenset[str]:
        """Devices whose state is the seat phone's state (never the Local member interface)."""
        return frozenset({self.device, device_of_interface(self.state_interface)})

    @property
    def channel_devices(self) -> frozenset[str]:
        """Devices whose channels belong to this seat (phone, state interface, Local member)."""
        return self.state_devices | {device_of_interface(self.interface)}

    @classmethod
    def standard(cls, seat_id: str, endpoint: str, context: str = SEAT_CONTEXT) -> Seat:
        """A seat wired the project's way: Local member "Local/<id>@<context>", phone state."""
        return cls(
            seat_id=seat_id,
            endpoint=endpoint,
            member_name=seat_id,
            interface=f"{LOCAL_TECH}{seat_id}@{context}",
            state_interface=f"{PJSIP_TECH}{endpoint}",
        )


class SeatDirectory:
    """Immutable lookups from any PBX name to its seat; unknown names give None."""

    def __init__(self, seats: Iterable[Seat]) -> None:
        self._seats: dict[str, Seat] = {}
        self._by_endpoint: dict[str, Seat] = {}
        self._by_member: dict[str, Seat] = {}
        self._by_interface: dict[str, Seat] = {}
        self._by_state_device: dict[str, Seat] = {}
        self._by_channel_device: dict[str, Seat] = {}
        for seat in seats:
            _put(self._seats, seat.seat_id, seat, "seat id")
            _put(self._by_endpoint, seat.endpoint, seat, "endpoint")
            _put(self._by_member, seat.member_name, seat, "member name")
            _put(self._by_interface, device_of_interface(seat.interface), seat, "interface")
            for device in seat.state_devices:
                _put(self._by_state_device, device, seat, "state device")
            for device in seat.channel_devices:
                _put(self._by_channel_device, device, seat, "channel device")

    def __iter__(self) -> Iterator[Seat]:
        return iter(sorted(self._seats.values(), key=lambda seat: seat.seat_id))

    def __len__(self) -> int:
        return len(self._seats)

    def __contains__(self, seat_id: object) -> bool:
        return seat_id in self._seats

    def get(self, seat_id: str) -> Seat | None:
        """The seat with this id."""
        return self._seats.get(seat_id)

    def by_endpoint(self, endpoint: str) -> Seat | None:
        """The seat whose PJSIP endpoint (or AOR of the same name) this is."""
        return self._by_endpoint.get(endpoint)

    def by_device(self, device: str) -> Seat | None:
        """The seat whose phone state this device reports ("PJSIP/1001" or its state interface)."""
        return self._by_state_device.get(device_of_interface(device))

    def by_member_name(self, member_name: str) -> Seat | None:
        """The seat added to queues under this MemberName."""
        return self._by_member.get(member_name)

    def by_interface(self, interface: str) -> Seat | None:
        """The seat added to queues with this Interface (Local options like "/n" ignored)."""
        return self._by_interface.get(device_of_interface(interface))

    def by_channel(self, channel: str) -> Seat | None:
        """The seat a channel belongs to ("PJSIP/1001-0000002a", "Local/01@hotline-seat-…;2")."""
        device = device_of_channel(channel)
        return self._by_channel_device.get(device) if device else None

    def by_phone_channel(self, channel: str) -> Seat | None:
        """The seat whose phone (device or state interface) this channel is on.

        Unlike `by_channel` this leaves out the Local member channels, which are up while the
        seat's announcement plays even though the phone may still be ringing.
        """
        device = device_of_channel(channel)
        return self._by_state_device.get(device) if device else None

    def resolve_member(self, member_name: str, interface: str) -> Seat | None:
        """The seat of a queue member event: MemberName first, then its Interface."""
        return self.by_member_name(member_name) or self.by_interface(interface)

    def seat_id_for_member(self, member_name: str, interface: str) -> str | None:
        """Seat id of a queue member, shaped as the resolver telephony.live_counters expects."""
        seat = self.resolve_member(member_name, interface)
        return seat.seat_id if seat else None


def _put(index: dict[str, Seat], key: str, seat: Seat, what: str) -> None:
    """Refuse two seats sharing one PBX name: lookups would silently pick one of them."""
    existing = index.get(key)
    if existing is not None and existing.seat_id != seat.seat_id:
        raise ValueError(f"{what} {key!r} used by seats {existing.seat_id} and {seat.seat_id}")
    index[key] = seat

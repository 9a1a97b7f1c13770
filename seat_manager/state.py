"""The state of every seat in the hall, derived from facts the PBX reports.

Rather than hand-written transitions (which drift whenever an event is lost or arrives in an
unexpected order), the board keeps per-seat FACTS, each overwritten by the latest event that
speaks about it, and derives the state from them after every event:

- registered: ContactStatus / PeerStatus, the PJSIPShowContacts (ContactList) and
  PJSIPShowEndpoint (ContactStatusDetail) lists, EndpointList DeviceState, the seat device's
  DeviceStateChange (UNAVAILABLE/INVALID = gone) and the queue member Status (5 = UNAVAILABLE);
- queue membership per queue, with paused / reason / since: QueueMemberAdded/Removed/Pause/
  Status/Penalty and the QueueStatus snapshot's QueueMember;
- device state of the seat phone: DeviceStateChange for its device or state interface, the
  member Status (1..8) and InCall;
- the queue call offered (AgentCalled) or connected (AgentConnect until AgentComplete/hangup);
- when the last call ended (for wrap-up).

Precedence: offline > on_call > ringing > logged_out (registered, no queue) > paused >
wrap_up > available. A paused operator still on a call is on_call, with `paused` as a flag.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from seat_manager.directory import Seat, SeatDirectory
from seat_manager.fold import Event, caller_value, header, header_int, view_copier
from seat_manager.ports import ChannelReader, PhoneChannel

CHANNEL_STATE_RINGING = 5
CHANNEL_STATE_UP = 6
DIRECT_CALL_CHANNEL_STATES = frozenset({CHANNEL_STATE_RINGING, CHANNEL_STATE_UP})
FLAG_TRUE = "1"


class SeatState(StrEnum):
    """What an operator position is doing; the values are the stable API strings."""

    OFFLINE = "offline"
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class DeviceState(StrEnum):
    """Asterisk's device states (ast_device_state), named as DeviceStateChange sends them."""

    UNKNOWN = "UNKNOWN"
    NOT_INUSE = "NOT_INUSE"
    INUSE = "INUSE"
    BUSY = "BUSY"
    INVALID = "INVALID"
    UNAVAILABLE = "UNAVAILABLE"
    RINGING = "RINGING"
    RINGINUSE = "RINGINUSE"
    ONHOLD = "ONHOLD"


# Queue member "Status" carries the numeric enum ast_device_state.
DEVICE_STATE_BY_NUMBER: dict[int, DeviceState] = {
    0: DeviceState.UNKNOWN,
    1: DeviceState.NOT_INUSE,
    2: DeviceState.INUSE,
    3: DeviceState.BUSY,
    4: DeviceState.INVALID,
    5: DeviceState.UNAVAILABLE,
    6: DeviceState.RINGING,
    7: DeviceState.RINGINUSE,
    8: DeviceState.ONHOLD,
}
# EndpointList's DeviceState uses ast_devstate_str's human texts.
DEVICE_STATE_BY_TEXT: dict[str, DeviceState] = {
    **{state.value.lower(): state for state in DeviceState},
    "not in use": DeviceState.NOT_INUSE,
    "in use": DeviceState.INUSE,
    "ring+inuse": DeviceState.RINGINUSE,
    "on hold": DeviceState.ONHOLD,
}
BUSY_DEVICE_STATES = frozenset(
    {DeviceState.INUSE, DeviceState.BUSY, DeviceState.ONHOLD, DeviceState.RINGINUSE}
)
GONE_DEVICE_STATES = frozenset({DeviceState.UNAVAILABLE, DeviceState.INVALID})
CONTACT_UP = frozenset({"Created", "Reachable", "Updated", "NonQualified", "Unqualified"})
CONTACT_DOWN = frozenset({"Removed", "Unreachable"})
CONTACT_REMOVED = "Removed"
PEER_UP = frozenset({"Reachable", "Registered"})
PEER_DOWN = frozenset({"Unreachable", "Unregistered", "Rejected"})
MEMBER_EVENTS = frozenset(
    {
        "QueueMemberAdded",
        "QueueMemberStatus",
        "QueueMemberPause",
        "QueueMemberPenalty",
        "QueueMemberRinginuse",
        "QueueMember",
    }
)
SEAT_CHANNEL_EVENTS = frozenset(
    {
        "Newchannel",
        "Newstate",
        "NewCallerid",
        "NewConnectedLine",
        "Rename",
        "BridgeEnter",
        "ConfbridgeJoin",
        "CoreShowChannel",
    }
)
MULTIPARTY_EVENTS = frozenset(
    {"BridgeEnter", "BridgeMerge", "ConfbridgeJoin", "ConfbridgeList", "CoreShowChannel"}
)


def parse_device_state(value: str | None) -> DeviceState | None:
    """A device state from a token ("INUSE"), a member Status number ("2") or a text ("In use")."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return DEVICE_STATE_BY_NUMBER.get(int(text))
    return DEVICE_STATE_BY_TEXT.get(text.lower())


@dataclass(frozen=True, slots=True)
class SeatCall:
    """The seat's current call (or, during wrap-up, the one just finished)."""

    citizen_number: str | None
    citizen_name: str | None
    linkedid: str | None
    seat_channel: str | None
    caller_channel: str | None
    queue: str | None
    offered_at: datetime | None
    started_at: datetime | None
    queue_wait_seconds: int | None
    three_way: bool
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class SeatView:
    """An immutable picture of one seat for the API."""

    seat_id: str
    endpoint: str
    member_name: str
    state: SeatState
    state_since: datetime | None
    registered: bool | None
    queues: tuple[str, ...]
    paused: bool
    pause_reason: str | None
    paused_since: datetime | None
    device_state: DeviceState | None
    wrapup_until: datetime | None
    call: SeatCall | None
    stale_since: datetime | None = None
    """Set while the link to Asterisk is down: this is the picture as it was then, not now."""

    @property
    def member(self) -> bool:
        """Logged in to at least one queue."""
        return bool(self.queues)


@dataclass(frozen=True, slots=True)
class SeatChange:
    """A seat moved from one state to another at `at`.

    `ended_call` is the call that ended with this change, whatever state follows: the seat's
    current call is cleared for any state but wrap-up (paused, logged out), and the recorder
    must still see the finished call."""

    seat_id: str
    old: SeatState
    new: SeatState
    at: datetime
    ended_call: SeatCall | None = None


@dataclass(slots=True)
class _Membership:
    paused: bool = False
    reason: str | None = None
    paused_since: datetime | None = None
    in_call: bool = False


@dataclass(slots=True)
class _QueueLeg:
    """A queue call offered to or connected with the seat."""

    caller_uniqueid: str | None
    caller_channel: str | None
    seat_channel: str | None


@dataclass(slots=True)
class _CallInfo:
    caller_uniqueid: str | None = None
    citizen_number: str | None = None
    citizen_name: str | None = None
    linkedid: str | None = None
    seat_channel: str | None = None
    caller_channel: str | None = None
    queue: str | None = None
    offered_at: datetime | None = None
    started_at: datetime | None = None
    queue_wait_seconds: int | None = None
    three_way: bool = False
    ended_at: datetime | None = None


@dataclass(slots=True)
class _Facts:
    registered: bool | None = None
    contacts: dict[str, bool] = field(default_factory=dict)
    memberships: dict[str, _Membership] = field(default_factory=dict)
    device_state: DeviceState | None = None
    offer: _QueueLeg | None = None
    connected: _QueueLeg | None = None
    channels: dict[str, bool] = field(default_factory=dict)  # uniqueid -> is the phone's
    busy: bool = False
    call_ended_at: datetime | None = None
    # When Asterisk says the member last finished a call (QueueMember LastCall, epoch seconds).
    pbx_last_call: datetime | None = None
    call: _CallInfo | None = None
    state: SeatState = SeatState.OFFLINE
    state_since: datetime | None = None


@dataclass(slots=True)
class _Snapshot:
    queues_listed: set[str] = field(default_factory=set)
    members_seen: set[tuple[str, str]] = field(default_factory=set)
    saw_contacts: bool = False
    contacts_seen: dict[str, dict[str, bool]] = field(default_factory=dict)
    saw_channels: bool = False


class SeatBoard:
    """Every seat's facts and derived state; fed one AMI event at a time, no I/O.

    The channels of the seat phones are read from the hall's call model (`channels`), which
    the hall owns and folds each event into before this board (telephony/picture.py)."""

    def __init__(self, directory: SeatDirectory, wrapup_seconds: int, channels: ChannelReader) -> None:
        self._directory = directory
        self._wrapup = timedelta(seconds=max(0, wrapup_seconds))
        self._facts: dict[str, _Facts] = {seat.seat_id: _Facts() for seat in directory}
        self._call_model = channels
        self._snapshot: _Snapshot | None = None
        self._stale_since: datetime | None = None
        self._dirty: set[str] = set()
        """Seats whose facts an event changed since the last settle."""
        self.version = 0
        """Moves on every feeding call (apply, tick, snapshots): readers that keep something
        derived from the picture (the API's answers) rebuild it only when this moved."""
        self._handlers: dict[str, Callable[[Event, datetime], None]] = {
            "QueueMemberRemoved": self._on_member_removed,
            "QueueParams": self._on_queue_params,
            "AgentCalled": self._on_agent_called,
            "AgentConnect": self._on_agent_connect,
            "AgentComplete": self._on_agent_complete,
            "AgentRingNoAnswer": self._on_offer_over,
            "AgentDump": self._on_offer_over,
            "QueueCallerLeave": self._on_caller_gone,
            "QueueCallerAbandon": self._on_caller_gone,
            "Hangup": self._on_hangup,
            "DeviceStateChange": self._on_device_state,
            "ContactStatus": self._on_contact_status,
            "ContactList": self._on_contact_listed,
            "ContactStatusDetail": self._on_contact_listed,
            "ContactListComplete": self._on_contacts_complete,
            "EndpointList": self._on_endpoint_listed,
            "PeerStatus": self._on_peer_status,
            "CoreShowChannelsComplete": self._on_channels_complete,
        }
        for name in MEMBER_EVENTS:
            self._handlers[name] = self._on_member

    # ----- feeding ----------------------------------------------------------------------------

    def apply(self, event: Event, now: datetime) -> list[SeatChange]:
        """Fold one AMI event into the facts (the call model has already taken it); returns
        the seats whose state changed."""
        self.version += 1
        name = header(event, "Event")
        if not name:
            return []
        handler = self._handlers.get(name)
        handled = handler is not None
        if handler is not None:
            handler(event, now)
        if name in SEAT_CHANNEL_EVENTS:
            self._on_seat_channel(event, now)
            handled = True
        if name in MULTIPARTY_EVENTS:
            self._mark_three_way()
            handled = True
        if self._snapshot is not None:
            return []  # rebuilding: states are derived once, from the whole picture, at the end
        return self._settle(now, self._dirty) if handled else []

    def tick(self, now: datetime) -> list[SeatChange]:
        """Let time pass: wrap-up periods that are over end here (not while a resync is half read)."""
        if self._snapshot is not None:
            return []
        self.version += 1
        return self._settle(now)

    def _touch(self, seat_id: str) -> _Facts:
        """The facts of a seat an event is about to change: it will be re-derived."""
        self._dirty.add(seat_id)
        return self._facts[seat_id]

    def begin_snapshot(self) -> None:
        """A resync starts: the list events that follow describe the whole PBX."""
        self.version += 1
        self._snapshot = _Snapshot()

    def end_snapshot(self, now: datetime) -> list[SeatChange]:
        """The resync is over: facts the completed lists did not mention are dropped.

        Seats missing from a queue's QueueStatus listing leave that queue; once the contact
        list completed, seats without a listed contact are unregistered; offered/connected queue
        calls whose channels the channel list no longer shows are over.
        """
        self.version += 1
        snap, self._snapshot = self._snapshot, None
        if snap is None:
            return self._settle(now, rebuilt=True)
        for seat_id, facts in self._facts.items():
            for queue in list(facts.memberships):
                if queue in snap.queues_listed and (seat_id, queue) not in snap.members_seen:
                    del facts.memberships[queue]
            if snap.saw_contacts:
                facts.contacts = dict(snap.contacts_seen.get(seat_id, {}))
                facts.registered = any(facts.contacts.values())
            if snap.saw_channels:
                self._forget_dead_channels(facts)
        changes = self._settle(now, rebuilt=True)
        # Calls read off the phones' channels exist only once settled: those in a conference
        # room or multiparty bridge the lists showed are three-way.
        self._mark_three_way()
        return changes

    def mark_stale(self, since: datetime) -> None:
        """The link to Asterisk is down: every view says since when its facts may be old."""
        if self._stale_since is None:
            self._stale_since = since
            self.version += 1  # every view changes: cached answers must be rebuilt

    def mark_fresh(self) -> None:
        """The picture was rebuilt from Asterisk's answers: current again."""
        if self._stale_since is not None:
            self._stale_since = None
            self.version += 1

    @property
    def stale_since(self) -> datetime | None:
        """Since when the picture is not followed live (None while it is)."""
        return self._stale_since

    # ----- reading ----------------------------------------------------------------------------

    def seats(self) -> tuple[SeatView, ...]:
        """All seats, by seat id."""
        return tuple(self._view(seat) for seat in self._directory)

    def seat(self, seat_id: str) -> SeatView | None:
        """One seat."""
        seat = self._directory.get(seat_id)
        return self._view(seat) if seat else None

    # ----- queue membership -------------------------------------------------------------------

    def _member_seat(self, event: Event) -> tuple[str, _Facts] | None:
        seat = self._directory.resolve_member(
            header(event, "MemberName") or header(event, "Name") or "",
            header(event, "Interface") or header(event, "Location") or "",
        ) or self._directory.by_device(header(event, "StateInterface") or "")
        return (seat.seat_id, self._touch(seat.seat_id)) if seat else None

    def _on_member(self, event: Event, now: datetime) -> None:
        found = self._member_seat(event)
        queue = header(event, "Queue")
        if found is None or not queue:
            return
        seat_id, facts = found
        membership = facts.memberships.setdefault(queue, _Membership())
        paused = header(event, "Paused")
        if paused is not None:
            self._set_paused(membership, paused.strip() == FLAG_TRUE, event, now)
        in_call = header(event, "InCall")
        if in_call is not None:
            membership.in_call = in_call.strip() == FLAG_TRUE
        last_call = _epoch(header_int(event, "LastCall"), now)
        if last_call is not None and (facts.pbx_last_call is None or last_call > facts.pbx_last_call):
            facts.pbx_last_call = last_call
        self._set_device_state(facts, parse_device_state(header(event, "Status")))
        if self._snapshot is not None:
            self._snapshot.members_seen.add((seat_id, queue))
            if header(event, "Event") == "QueueMember":
                self._snapshot.queues_listed.add(queue)

    @staticmethod
    def _set_paused(membership: _Membership, paused: bool, event: Event, now: datetime) -> None:
        if not paused:
            membership.paused, membership.reason, membership.paused_since = False, None, None
            return
        membership.reason = (header(event, "PausedReason") or "").strip() or None
        if not membership.paused:
            membership.paused = True
            membership.paused_since = _pause_start(header_int(event, "LastPause"), now)

    def _on_member_removed(self, event: Event, now: datetime) -> None:
        found = self._member_seat(event)
        queue = header(event, "Queue")
        if found is None or not queue:
            return
        seat_id, facts = found
        facts.memberships.pop(queue, None)
        if self._snapshot is not None:
            self._snapshot.members_seen.discard((seat_id, queue))

    def _on_queue_params(self, event: Event, now: datetime) -> None:
        queue = header(event, "Queue")
        if queue and self._snapshot is not None:
            self._snapshot.queues_listed.add(queue)

    # ----- queue calls ------------------------------------------------------------------------

    def _agent_seat(self, event: Event) -> _Facts | None:
        seat = self._directory.resolve_member(
            header(event, "MemberName") or "", header(event, "Interface") or ""
        ) or self._directory.by_channel(header(event, "DestChannel") or "")
        return self._touch(seat.seat_id) if seat else None

    def _on_agent_called(self, event: Event, now: datetime) -> None:
        facts = self._agent_seat(event)
        if facts is None:
            return
        leg = _leg(event)
        facts.offer = leg
        if facts.busy and facts.call is not None and facts.call.ended_at is None:
            return  # ringinuse: a second call rings while the first one is still being talked
        facts.call = _CallInfo(offered_at=now)
        _fill_queue_call(facts.call, event, leg)

    def _on_agent_connect(self, event: Event, now: datetime) -> None:
        facts = self._agent_seat(event)
        if facts is None:
            return
        leg = _leg(event)
        facts.offer = None
        facts.connected = leg
        call = facts.call
        if call is None or call.ended_at is not None or call.caller_uniqueid != leg.caller_uniqueid:
            call = facts.call = _CallInfo()
        _fill_queue_call(call, event, leg)
        call.started_at = now
        call.queue_wait_seconds = header_int(event, "HoldTime")

    def _on_agent_complete(self, event: Event, now: datetime) -> None:
        facts = self._agent_seat(event)
        if facts is not None and _same_caller(facts.connected, header(event, "Uniqueid")):
            facts.connected = None

    def _on_offer_over(self, event: Event, now: datetime) -> None:
        facts = self._agent_seat(event)
        if facts is not None and _same_caller(facts.offer, header(event, "Uniqueid")):
            facts.offer = None

    def _on_caller_gone(self, event: Event, now: datetime) -> None:
        uniqueid = header(event, "Uniqueid")
        if not uniqueid:
            return
        for seat_id, facts in self._facts.items():
            if facts.offer is not None and facts.offer.caller_uniqueid == uniqueid:
                facts.offer = None
                self._dirty.add(seat_id)

    # ----- channels ---------------------------------------------------------------------------

    def _on_seat_channel(self, event: Event, now: datetime) -> None:
        """Remember which live channels are the seat's, and which of them are its phone's."""
        uniqueid = header(event, "Uniqueid")
        channel = self._call_model.channel(uniqueid) if uniqueid else None
        seat = self._directory.by_channel(channel.name) if channel else None
        if channel is None or seat is None:
            return
        phone = self._directory.by_phone_channel(channel.name) is not None
        self._touch(seat.seat_id).channels[channel.uniqueid] = phone

    def _on_hangup(self, event: Event, now: datetime) -> None:
        uniqueid = header(event, "Uniqueid")
        name = header(event, "Channel")
        for seat_id, facts in self._facts.items():
            if uniqueid and facts.channels.pop(uniqueid, None) is not None:
                self._dirty.add(seat_id)
            for attribute in ("offer", "connected"):
                leg: _QueueLeg | None = getattr(facts, attribute)
                if leg is None:
                    continue
                if (name and leg.seat_channel == name) or (uniqueid and leg.caller_uniqueid == uniqueid):
                    setattr(facts, attribute, None)
                    self._dirty.add(seat_id)

    def _on_channels_complete(self, event: Event, now: datetime) -> None:
        if self._snapshot is not None:
            self._snapshot.saw_channels = True

    def _forget_dead_channels(self, facts: _Facts) -> None:
        facts.channels = {u: p for u, p in facts.channels.items() if self._call_model.channel(u)}
        for attribute in ("offer", "connected"):
            leg: _QueueLeg | None = getattr(facts, attribute)
            if leg is None:
                continue
            alive = (leg.seat_channel and self._call_model.channel_by_name(leg.seat_channel)) or (
                leg.caller_uniqueid and self._call_model.channel(leg.caller_uniqueid)
            )
            if not alive:
                setattr(facts, attribute, None)

    def _mark_three_way(self) -> None:
        """A live call becomes (and stays) three-way once a seat channel shares a multiparty
        bridge or ConfBridge room; the flag outlives the expert so the work order records it."""
        for seat_id, facts in self._facts.items():
            call = facts.call
            if call is None or call.ended_at is not None or call.three_way:
                continue
            if any(self._call_model.in_multiparty(uniqueid) for uniqueid in facts.channels):
                call.three_way = True
                self._dirty.add(seat_id)

    # ----- registration and device state ------------------------------------------------------

    def _on_device_state(self, event: Event, now: datetime) -> None:
        seat = self._directory.by_device(header(event, "Device") or "")
        if seat is not None:
            state = parse_device_state(header(event, "State"))
            self._set_device_state(self._touch(seat.seat_id), state)

    def _on_endpoint_listed(self, event: Event, now: datetime) -> None:
        seat = self._directory.by_endpoint(header(event, "ObjectName") or "")
        if seat is not None:
            state = parse_device_state(header(event, "DeviceState"))
            self._set_device_state(self._touch(seat.seat_id), state)

    @staticmethod
    def _set_device_state(facts: _Facts, state: DeviceState | None) -> None:
        """A known device state is also a registration fact: only a gone phone is unavailable."""
        if state is None or state is DeviceState.UNKNOWN:
            return
        facts.device_state = state
        facts.registered = state not in GONE_DEVICE_STATES

    def _contact_seat(self, event: Event, *keys: str) -> tuple[str, _Facts] | None:
        for key in keys:
            seat = self._directory.by_endpoint(header(event, key) or "")
            if seat is not None:
                return seat.seat_id, self._touch(seat.seat_id)
        return None

    def _on_contact_status(self, event: Event, now: datetime) -> None:
        found = self._contact_seat(event, "EndpointName", "AOR")
        status = header(event, "ContactStatus")
        if found is None or status is None:
            return
        seat_id, facts = found
        uri = header(event, "URI") or ""
        if status == CONTACT_REMOVED:
            facts.contacts.pop(uri, None)
        elif status in CONTACT_DOWN:
            facts.contacts[uri] = False
        elif status in CONTACT_UP:
            facts.contacts[uri] = True
        else:
            return
        facts.registered = any(facts.contacts.values())
        if self._snapshot is not None:
            seen = self._snapshot.contacts_seen.setdefault(seat_id, {})
            if uri in facts.contacts:
                seen[uri] = facts.contacts[uri]
            else:
                seen.pop(uri, None)

    def _on_contact_listed(self, event: Event, now: datetime) -> None:
        """A registrar listing: a listed contact exists, alive unless qualify says Unreachable."""
        found = self._contact_seat(event, "Endpoint", "EndpointName", "Aor", "AOR")
        if found is None:
            return
        seat_id, facts = found
        uri = header(event, "Uri") or header(event, "URI") or ""
        alive = header(event, "Status") not in CONTACT_DOWN
        facts.contacts[uri] = alive
        facts.registered = any(facts.contacts.values())
        if self._snapshot is not None:
            self._snapshot.contacts_seen.setdefault(seat_id, {})[uri] = alive

    def _on_contacts_complete(self, event: Event, now: datetime) -> None:
        if self._snapshot is not None:
            self._snapshot.saw_contacts = True

    def _on_peer_status(self, event: Event, now: datetime) -> None:
        seat = self._directory.by_device(header(event, "Peer") or "")
        status = header(event, "PeerStatus")
        if seat is None:
            return
        if status in PEER_UP:
            self._touch(seat.seat_id).registered = True
        elif status in PEER_DOWN:
            self._touch(seat.seat_id).registered = False

    # ----- deriving ---------------------------------------------------------------------------

    def _settle(self, now: datetime, only: set[str] | None = None,
                rebuilt: bool = False) -> list[SeatChange]:
        """Re-derive seat states from their facts; report the seats that moved.

        With `only` (the seats an event touched), seats whose facts did not change are skipped
        unless they are ringing, on a call or in wrap-up: those also depend on channel states
        and on the clock. Without it (tick, end of a resync), every seat is re-derived.
        `rebuilt`: the picture was just rebuilt after an outage, so a call found over ended
        when Asterisk says (LastCall), not now: no invented talk time, no fresh wrap-up."""
        changes: list[SeatChange] = []
        if only is None:
            targets = self._facts.items()
        else:
            targets = [(seat_id, facts) for seat_id, facts in self._facts.items()
                       if seat_id in only or facts.state in _TIME_OR_CHANNEL_STATES]
        self._dirty = set()
        for seat_id, facts in targets:
            busy = self._is_busy(facts)
            ended_call = None
            if facts.busy and not busy:
                ended_at = _ended_while_away(facts, now) if rebuilt else now
                facts.call_ended_at = ended_at
                if facts.call is not None and facts.call.ended_at is None:
                    facts.call.ended_at = ended_at
                    ended_call = _call_view(facts.call)
            facts.busy = busy
            state = self._derive(facts, now)
            if state in (SeatState.RINGING, SeatState.ON_CALL):
                self._follow_direct_call(facts, now)
            elif state is not SeatState.WRAP_UP:
                facts.call = None
            if state is not facts.state:
                changes.append(SeatChange(seat_id, facts.state, state, now, ended_call))
                facts.state = state
                facts.state_since = now
        return changes

    def _phone_channels(self, facts: _Facts) -> list[PhoneChannel]:
        found = (self._call_model.channel(u) for u, phone in facts.channels.items() if phone)
        return [channel for channel in found if channel is not None]

    def _is_busy(self, facts: _Facts) -> bool:
        """On a call: a queue call is connected, a queue says InCall, the phone's channel is
        up, or the phone's device state says so and nothing shows it merely ringing (an
        endpoint with device_state_busy_at=1 reports BUSY while it rings)."""
        if facts.connected is not None or any(m.in_call for m in facts.memberships.values()):
            return True
        if self._phone_up(facts):
            return True
        if facts.device_state in BUSY_DEVICE_STATES:
            ringing = facts.offer is not None or any(
                c.state == CHANNEL_STATE_RINGING for c in self._phone_channels(facts))
            return not ringing
        return False

    def _phone_ringing(self, facts: _Facts) -> bool:
        """A ringing channel on the seat's phone rings the seat, whatever device state says: an
        endpoint with device_state_busy_at=1 (the rendered pjsip.conf) reports BUSY, never
        RINGING, while a direct or named-operator call rings it."""
        return any(c.state == CHANNEL_STATE_RINGING for c in self._phone_channels(facts))

    def _phone_up(self, facts: _Facts) -> bool:
        """An answered channel on the seat's phone is a call, whatever device state says yet."""
        return any(c.state == CHANNEL_STATE_UP for c in self._phone_channels(facts))

    def _follow_direct_call(self, facts: _Facts, now: datetime) -> None:
        """A call the queue did not bring (direct or outgoing) is read off the phone's channel:
        the citizen is that channel's connected party."""
        call = facts.call
        if call is None or call.ended_at is not None:
            if facts.offer is not None or facts.connected is not None:
                return
            ringing_or_up = [c for c in self._phone_channels(facts) if c.state in DIRECT_CALL_CHANNEL_STATES]
            if not ringing_or_up:
                return
            ringing_or_up.sort(key=lambda c: (c.state != CHANNEL_STATE_UP, c.created_at))
            channel = ringing_or_up[0]
            call = facts.call = _CallInfo(
                linkedid=channel.linkedid, seat_channel=channel.name, offered_at=now
            )
        channel_view = self._call_model.channel_by_name(call.seat_channel) if call.seat_channel else None
        if channel_view is None:
            return
        if call.queue is None and channel_view.connected_number is not None:
            call.citizen_number = channel_view.connected_number
            call.citizen_name = channel_view.connected_name
        if call.started_at is None and channel_view.state == CHANNEL_STATE_UP:
            call.started_at = now

    def _derive(self, facts: _Facts, now: datetime) -> SeatState:
        if not _reachable(facts):
            return SeatState.OFFLINE
        if facts.busy:
            return SeatState.ON_CALL
        if facts.offer is not None or facts.device_state is DeviceState.RINGING or self._phone_ringing(facts):
            return SeatState.RINGING
        if not facts.memberships:
            return SeatState.LOGGED_OUT
        if all(m.paused for m in facts.memberships.values()):
            return SeatState.PAUSED
        if self._wrapup_until(facts, now) is not None:
            return SeatState.WRAP_UP
        return SeatState.AVAILABLE

    def _wrapup_until(self, facts: _Facts, now: datetime) -> datetime | None:
        if facts.call_ended_at is None:
            return None
        until = facts.call_ended_at + self._wrapup
        return until if now < until else None

    def _view(self, seat: Seat) -> SeatView:
        facts = self._facts[seat.seat_id]
        memberships = facts.memberships
        paused = bool(memberships) and all(m.paused for m in memberships.values())
        latest = max(
            (m for m in memberships.values() if m.paused_since is not None),
            key=lambda m: m.paused_since or datetime.min,
            default=None,
        )
        call = facts.call
        return SeatView(
            seat_id=seat.seat_id,
            endpoint=seat.endpoint,
            member_name=seat.member_name,
            state=facts.state,
            state_since=facts.state_since,
            registered=facts.registered if facts.registered is None else _reachable(facts),
            queues=tuple(sorted(memberships)),
            paused=paused,
            pause_reason=latest.reason if paused and latest else None,
            paused_since=latest.paused_since if paused and latest else None,
            device_state=facts.device_state,
            wrapup_until=(
                facts.call_ended_at + self._wrapup
                if facts.state is SeatState.WRAP_UP and facts.call_ended_at
                else None
            ),
            call=_call_view(call) if call else None,
            stale_since=self._stale_since,
        )


def _reachable(facts: _Facts) -> bool:
    """Registered, and the phone's device is not gone. After an Asterisk restart the registrar
    lists the stored contacts (NonQualified) while the device is UNAVAILABLE until the next
    qualify (~30 s): Asterisk's queue will not ring the seat, so neither may the picture."""
    return facts.registered is True and facts.device_state not in GONE_DEVICE_STATES


def _epoch(seconds: int | None, now: datetime) -> datetime | None:
    """An epoch-seconds header as an instant in `now`'s zone; None when unset (0) or unusable."""
    if not seconds or seconds <= 0 or now.tzinfo is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=now.tzinfo)
    except (OverflowError, OSError, ValueError):
        return None


def _ended_while_away(facts: _Facts, now: datetime) -> datetime:
    """When a call found over by a resync ended: Asterisk's LastCall for the member if it falls
    within the call (it has whole seconds), else now, the best that is known."""
    last = facts.pbx_last_call
    started = facts.call.started_at if facts.call is not None else None
    if last is None or last > now:
        return now
    if started is not None and last < started.replace(microsecond=0):
        return now  # an earlier call's end: this one's end is not known
    return last


def _pause_start(last_pause: int | None, now: datetime) -> datetime:
    """When a pause began: Asterisk's LastPause (epoch seconds) when usable, else now."""
    started = _epoch(last_pause, now)
    return started if started is not None and started <= now else now


def _leg(event: Event) -> _QueueLeg:
    return _QueueLeg(
        caller_uniqueid=header(event, "Uniqueid"),
        caller_channel=header(event, "Channel"),
        seat_channel=header(event, "DestChannel"),
    )


def _same_caller(leg: _QueueLeg | None, uniqueid: str | None) -> bool:
    """Whether an Agent* event is about this leg (an event without Uniqueid matches any)."""
    return leg is not None and (uniqueid is None or leg.caller_uniqueid == uniqueid)


def _fill_queue_call(call: _CallInfo, event: Event, leg: _QueueLeg) -> None:
    call.caller_uniqueid = leg.caller_uniqueid
    call.caller_channel = leg.caller_channel or call.caller_channel
    call.seat_channel = leg.seat_channel or call.seat_channel
    call.queue = header(event, "Queue") or call.queue
    call.linkedid = header(event, "Linkedid") or call.linkedid
    number = caller_value(header(event, "CallerIDNum"))
    if number is not None:
        call.citizen_number = number
        call.citizen_name = caller_value(header(event, "CallerIDName"))


_call_view: Callable[[_CallInfo], SeatCall] = view_copier(SeatCall)
"""The seat's call as handed out: SeatCall's fields read off the record (seat_manager.fold).
Not a copy of the call model's CallView (telephony/calls.py): that is the call as a whole (its
channels, bridged or three-way); this is one seat's part in it (queue, wait, offered/started)."""


_TIME_OR_CHANNEL_STATES = frozenset({SeatState.RINGING, SeatState.ON_CALL, SeatState.WRAP_UP})
"""States re-derived after every handled event even for untouched seats."""

"""The live call picture rebuilt from AMI events: channels, bridges, ConfBridge rooms, calls, queue.

Pure state: `apply(event, now)` folds one AMI event (a Mapping of headers as Asterisk sends
them) into the picture and returns what changed; no I/O, no clock. A resync after (re)login is
`begin_snapshot()`, the list events (CoreShowChannel, BridgeListItem, QueueStatus entries,
ConfbridgeListRooms), then `end_snapshot(now)`, which forgets whatever the lists did not show.
Unknown events and malformed or missing headers are ignored, never raised.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from seat_manager.fold import Event, caller_value, header, header_int, view_copier

ANNOUNCER_PREFIX = "CBAnn/"
CONFBRIDGE_CREATOR = "ConfBridge"
CHANNEL_STATE_UP = 6
CHANNEL_STATE_UP_DESC = "Up"
MULTIPARTY_MIN_PARTIES = 3
BRIDGED_MIN_PARTIES = 2
RECENT_HANGUPS_KEPT = 2048
SECONDS_PER_MINUTE = 60
SECONDS_PER_HOUR = 3600


class CallChangeKind(StrEnum):
    """What a CallChange reports; values are stable API strings."""

    CALL_STARTED = "call_started"
    CALL_ENDED = "call_ended"
    QUEUE_JOINED = "queue_joined"
    QUEUE_LEFT = "queue_left"
    QUEUE_ABANDONED = "queue_abandoned"


@dataclass(frozen=True, slots=True)
class CallChange:
    """One noteworthy change: `key` is the Linkedid for calls, the caller Uniqueid for queues."""

    kind: CallChangeKind
    key: str
    at: datetime
    queue: str | None = None


@dataclass(frozen=True, slots=True)
class ChannelView:
    """A live channel as last reported."""

    uniqueid: str
    name: str
    linkedid: str
    state: int | None
    state_desc: str | None
    caller_number: str | None
    caller_name: str | None
    connected_number: str | None
    connected_name: str | None
    context: str | None
    exten: str | None
    created_at: datetime
    answered_at: datetime | None
    bridge_id: str | None
    conference: str | None


@dataclass(frozen=True, slots=True)
class BridgeView:
    """A bridge; `party_count` leaves out ConfBridge's announcer, unlike BridgeNumChannels."""

    bridge_id: str
    technology: str | None
    bridge_type: str | None
    creator: str | None
    name: str | None
    conference: str | None
    channels: tuple[str, ...]
    party_count: int
    created_at: datetime

    @property
    def multiparty(self) -> bool:
        """More than two parties talk together, or it is a ConfBridge room."""
        return self.party_count >= MULTIPARTY_MIN_PARTIES or self.conference is not None


@dataclass(frozen=True, slots=True)
class ConferenceView:
    """A ConfBridge room and the channels that joined it."""

    name: str
    bridge_id: str | None
    started_at: datetime
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CallView:
    """Channels sharing one Linkedid, with the citizen's number as first seen."""

    linkedid: str
    citizen_number: str | None
    citizen_name: str | None
    started_at: datetime
    bridged_at: datetime | None
    channels: tuple[str, ...]
    three_way: bool


@dataclass(frozen=True, slots=True)
class QueueCallerView:
    """A caller waiting in a queue."""

    queue: str
    uniqueid: str
    channel: str | None
    linkedid: str | None
    caller_number: str | None
    caller_name: str | None
    position: int
    joined_at: datetime

    def waited(self, now: datetime) -> timedelta:
        """How long this caller has been waiting at `now`."""
        return now - self.joined_at


@dataclass(slots=True)
class _Channel:
    uniqueid: str
    name: str
    linkedid: str
    created_at: datetime
    state: int | None = None
    state_desc: str | None = None
    caller_number: str | None = None
    caller_name: str | None = None
    connected_number: str | None = None
    connected_name: str | None = None
    context: str | None = None
    exten: str | None = None
    answered_at: datetime | None = None
    bridge_id: str | None = None
    conference: str | None = None


@dataclass(slots=True)
class _Bridge:
    bridge_id: str
    created_at: datetime
    technology: str | None = None
    bridge_type: str | None = None
    creator: str | None = None
    name: str | None = None
    conference: str | None = None
    channels: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Conference:
    name: str
    started_at: datetime
    bridge_id: str | None = None
    channels: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Call:
    linkedid: str
    started_at: datetime
    channels: set[str] = field(default_factory=set)
    citizen_number: str | None = None
    citizen_name: str | None = None
    bridged_at: datetime | None = None


@dataclass(slots=True)
class _QueueEntry:
    queue: str
    uniqueid: str
    position: int
    joined_at: datetime
    channel: str | None = None
    linkedid: str | None = None
    caller_number: str | None = None
    caller_name: str | None = None


@dataclass(slots=True)
class _Snapshot:
    channels_seen: set[str] = field(default_factory=set)
    saw_channels: bool = False
    bridges_seen: set[str] = field(default_factory=set)
    saw_bridges: bool = False
    rooms_seen: set[str] = field(default_factory=set)
    saw_rooms: bool = False
    queues_listed: set[str] = field(default_factory=set)
    entries_seen: set[tuple[str, str]] = field(default_factory=set)


def parse_duration(value: str | None) -> timedelta | None:
    """CoreShowChannel's "HH:MM:SS" duration."""
    if not value:
        return None
    parts = value.strip().split(":")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        return None
    if len(numbers) != 3 or any(number < 0 for number in numbers):
        return None
    hours, minutes, seconds = numbers
    return timedelta(seconds=hours * SECONDS_PER_HOUR + minutes * SECONDS_PER_MINUTE + seconds)


def _never_internal(_channel: str) -> bool:
    return False


class CallBook:
    """Live channels, bridges, rooms, calls and queue callers of one Asterisk."""

    def __init__(self, is_internal: Callable[[str], bool] | None = None) -> None:
        """`is_internal(channel_name)` tells operator channels apart, so that for a call an
        operator starts the citizen is the other party, not the operator."""
        self._is_internal = is_internal or _never_internal
        self._channels: dict[str, _Channel] = {}
        self._by_name: dict[str, str] = {}
        self._bridges: dict[str, _Bridge] = {}
        self._rooms: dict[str, _Conference] = {}
        self._calls: dict[str, _Call] = {}
        self._queue: dict[tuple[str, str], _QueueEntry] = {}
        self._recent_hangups: deque[str] = deque(maxlen=RECENT_HANGUPS_KEPT)
        self._recent_hangup_set: set[str] = set()
        self._snapshot: _Snapshot | None = None
        self._changes: list[CallChange] = []
        self._handlers: dict[str, Callable[[Event, datetime], None]] = {
            "Newchannel": self._on_channel_update,
            "Newstate": self._on_channel_update,
            "NewCallerid": self._on_channel_update,
            "NewConnectedLine": self._on_channel_update,
            "Hangup": self._on_hangup,
            "Rename": self._on_rename,
            "BridgeCreate": self._on_bridge_create,
            "BridgeEnter": self._on_bridge_enter,
            "BridgeLeave": self._on_bridge_leave,
            "BridgeDestroy": self._on_bridge_destroy,
            "BridgeMerge": self._on_bridge_merge,
            "ConfbridgeStart": self._on_conf_start,
            "ConfbridgeJoin": self._on_conf_join,
            "ConfbridgeLeave": self._on_conf_leave,
            "ConfbridgeEnd": self._on_conf_end,
            "ConfbridgeListRooms": self._on_conf_listed,
            "ConfbridgeList": self._on_conf_join,
            "ConfbridgeListRoomsComplete": self._on_conf_list_complete,
            "QueueCallerJoin": self._on_queue_join,
            "QueueCallerLeave": self._on_queue_leave,
            "QueueCallerAbandon": self._on_queue_abandon,
            "QueueEntry": self._on_queue_entry,
            "QueueParams": self._on_queue_params,
            "CoreShowChannel": self._on_core_show_channel,
            "CoreShowChannelsComplete": self._on_channels_complete,
            "BridgeListItem": self._on_bridge_list_item,
            "BridgeListComplete": self._on_bridges_complete,
        }

    # ----- folding events -------------------------------------------------------------------

    def apply(self, event: Event, now: datetime) -> list[CallChange]:
        """Fold one AMI event in; returns the calls started/ended and queue moves it caused."""
        self._changes = []
        name = header(event, "Event")
        handler = self._handlers.get(name) if name else None
        if handler is not None:
            handler(event, now)
        return self._changes

    def begin_snapshot(self) -> None:
        """Start a resync: list events from now on describe the whole PBX."""
        self._snapshot = _Snapshot()

    def end_snapshot(self, now: datetime) -> list[CallChange]:
        """Finish a resync: forget channels, bridges, rooms and queue callers the lists omitted.

        Only lists that actually completed are trusted, so a failed action never wipes state.
        """
        self._changes = []
        snap, self._snapshot = self._snapshot, None
        if snap is None:
            return []
        if snap.saw_channels:
            for uniqueid in [u for u in self._channels if u not in snap.channels_seen]:
                self._drop_channel(uniqueid, now)
        for bridge_id, bridge in list(self._bridges.items()):
            listed = bridge_id in snap.bridges_seen
            if (snap.saw_bridges and not listed) or (
                snap.saw_channels and not listed and not bridge.channels
            ):
                self._destroy_bridge(bridge_id)
        for name, room in list(self._rooms.items()):
            listed = name in snap.rooms_seen
            if (snap.saw_rooms and not listed) or (snap.saw_channels and not listed and not room.channels):
                self._end_room(name)
        for key in [k for k in self._queue if k[0] in snap.queues_listed]:
            if key not in snap.entries_seen:
                self._remove_queue_entry(key, now, CallChangeKind.QUEUE_LEFT)
        return self._changes

    # ----- reading -------------------------------------------------------------------------

    def channel(self, uniqueid: str) -> ChannelView | None:
        """The live channel with this Uniqueid."""
        channel = self._channels.get(uniqueid)
        return self._channel_view(channel) if channel else None

    def channel_by_name(self, name: str) -> ChannelView | None:
        """The live channel with this name."""
        uniqueid = self._by_name.get(name)
        return self.channel(uniqueid) if uniqueid else None

    def channels(self) -> tuple[ChannelView, ...]:
        """All live channels, oldest first."""
        ordered = sorted(self._channels.values(), key=lambda c: (c.created_at, c.uniqueid))
        return tuple(self._channel_view(channel) for channel in ordered)

    def bridge(self, bridge_id: str) -> BridgeView | None:
        """The bridge with this BridgeUniqueid."""
        bridge = self._bridges.get(bridge_id)
        return self._bridge_view(bridge) if bridge else None

    def bridge_of(self, uniqueid: str) -> BridgeView | None:
        """The bridge a channel is in."""
        channel = self._channels.get(uniqueid)
        if channel is None or channel.bridge_id is None:
            return None
        return self.bridge(channel.bridge_id)

    def bridges(self) -> tuple[BridgeView, ...]:
        """All bridges."""
        return tuple(self._bridge_view(b) for b in self._bridges.values())

    def in_multiparty(self, uniqueid: str) -> bool:
        """The channel talks with more than one other party, or sits in a ConfBridge room."""
        channel = self._channels.get(uniqueid)
        if channel is None:
            return False
        if channel.conference is not None:
            return True
        bridge = self._bridges.get(channel.bridge_id) if channel.bridge_id else None
        return bridge is not None and self._bridge_view(bridge).multiparty

    def conferences(self) -> tuple[ConferenceView, ...]:
        """All ConfBridge rooms."""
        return tuple(
            ConferenceView(
                name=room.name,
                bridge_id=room.bridge_id,
                started_at=room.started_at,
                channels=self._names(room.channels),
            )
            for room in self._rooms.values()
        )

    def calls(self) -> tuple[CallView, ...]:
        """Live calls (channels grouped by Linkedid), oldest first."""
        ordered = sorted(self._calls.values(), key=lambda c: (c.started_at, c.linkedid))
        return tuple(self._call_view(call) for call in ordered)

    def call(self, linkedid: str) -> CallView | None:
        """The live call with this Linkedid."""
        call = self._calls.get(linkedid)
        return self._call_view(call) if call else None

    def queue(self, queue: str | None = None) -> tuple[QueueCallerView, ...]:
        """Callers waiting (in one queue, or all), by queue then position."""
        entries = [e for e in self._queue.values() if queue is None or e.queue == queue]
        entries.sort(key=lambda e: (e.queue, e.position, e.joined_at))
        return tuple(
            QueueCallerView(
                queue=e.queue,
                uniqueid=e.uniqueid,
                channel=e.channel,
                linkedid=e.linkedid,
                caller_number=e.caller_number,
                caller_name=e.caller_name,
                position=e.position,
                joined_at=e.joined_at,
            )
            for e in entries
        )

    # ----- channels ------------------------------------------------------------------------

    def _on_channel_update(self, event: Event, now: datetime) -> None:
        self._upsert_channel(event, now)

    def _upsert_channel(self, event: Event, now: datetime, prefix: str = "") -> _Channel | None:
        """Create or refresh a channel from the standard channel headers (optionally prefixed)."""
        uniqueid = header(event, f"{prefix}Uniqueid")
        name = header(event, f"{prefix}Channel")
        if not uniqueid or uniqueid in self._recent_hangup_set:
            return None
        linkedid = header(event, f"{prefix}Linkedid") or uniqueid
        channel = self._channels.get(uniqueid)
        if channel is None:
            if not name:
                return None
            channel = _Channel(uniqueid=uniqueid, name=name, linkedid=linkedid, created_at=now)
            self._channels[uniqueid] = channel
            self._by_name[name] = uniqueid
            self._attach_to_call(channel, now)
        elif name and name != channel.name:
            self._rename(channel, name)
        if linkedid != channel.linkedid:
            self._detach_from_call(channel, now)
            channel.linkedid = linkedid
            self._attach_to_call(channel, now)
        self._refresh_channel(channel, event, now, prefix)
        self._refresh_citizen(channel)
        return channel

    def _refresh_channel(self, channel: _Channel, event: Event, now: datetime, prefix: str) -> None:
        state = header_int(event, f"{prefix}ChannelState")
        if state is not None:
            channel.state = state
        state_desc = header(event, f"{prefix}ChannelStateDesc")
        if state_desc:
            channel.state_desc = state_desc
        if channel.answered_at is None and (
            channel.state == CHANNEL_STATE_UP or channel.state_desc == CHANNEL_STATE_UP_DESC
        ):
            channel.answered_at = now
        for attribute, key in (
            ("caller_number", "CallerIDNum"),
            ("caller_name", "CallerIDName"),
            ("connected_number", "ConnectedLineNum"),
            ("connected_name", "ConnectedLineName"),
        ):
            value = header(event, f"{prefix}{key}")
            if value is not None:
                setattr(channel, attribute, caller_value(value))
        context = header(event, f"{prefix}Context")
        if context:
            channel.context = context
        exten = header(event, f"{prefix}Exten")
        if exten:
            channel.exten = exten

    def _rename(self, channel: _Channel, name: str) -> None:
        if self._by_name.get(channel.name) == channel.uniqueid:
            del self._by_name[channel.name]
        channel.name = name
        self._by_name[name] = channel.uniqueid

    def _on_rename(self, event: Event, now: datetime) -> None:
        uniqueid = header(event, "Uniqueid")
        new_name = header(event, "Newname")
        channel = self._channels.get(uniqueid) if uniqueid else None
        if channel is not None and new_name:
            self._rename(channel, new_name)

    def _on_hangup(self, event: Event, now: datetime) -> None:
        uniqueid = header(event, "Uniqueid")
        if uniqueid:
            self._drop_channel(uniqueid, now)

    def _drop_channel(self, uniqueid: str, now: datetime) -> None:
        """A channel is gone: out of its bridge, room, queue and call; late events are ignored."""
        if uniqueid not in self._recent_hangup_set:
            if len(self._recent_hangups) == self._recent_hangups.maxlen:
                self._recent_hangup_set.discard(self._recent_hangups[0])
            self._recent_hangups.append(uniqueid)
            self._recent_hangup_set.add(uniqueid)
        channel = self._channels.pop(uniqueid, None)
        if channel is None:
            return
        if self._by_name.get(channel.name) == uniqueid:
            del self._by_name[channel.name]
        self._leave_bridge(channel)
        self._leave_room(channel)
        for key in [k for k in self._queue if k[1] == uniqueid]:
            self._remove_queue_entry(key, now, CallChangeKind.QUEUE_LEFT)
        self._detach_from_call(channel, now)

    # ----- calls ---------------------------------------------------------------------------

    def _attach_to_call(self, channel: _Channel, now: datetime) -> None:
        call = self._calls.get(channel.linkedid)
        if call is None:
            call = _Call(linkedid=channel.linkedid, started_at=now)
            self._calls[channel.linkedid] = call
            self._changes.append(CallChange(CallChangeKind.CALL_STARTED, channel.linkedid, now))
        call.channels.add(channel.uniqueid)

    def _detach_from_call(self, channel: _Channel, now: datetime) -> None:
        call = self._calls.get(channel.linkedid)
        if call is None:
            return
        call.channels.discard(channel.uniqueid)
        if not call.channels:
            del self._calls[channel.linkedid]
            self._changes.append(CallChange(CallChangeKind.CALL_ENDED, channel.linkedid, now))

    def _refresh_citizen(self, channel: _Channel) -> None:
        """The citizen is the originator's caller id, or its other party if an operator called."""
        call = self._calls.get(channel.linkedid)
        if call is None:
            return
        originator = channel.uniqueid == channel.linkedid
        if not originator and call.citizen_number is not None:
            return
        if self._is_internal(channel.name):
            number, name = channel.connected_number, channel.connected_name
        else:
            number, name = channel.caller_number, channel.caller_name
        if number is not None:
            call.citizen_number = number
            call.citizen_name = name

    # ----- bridges -------------------------------------------------------------------------

    def _upsert_bridge(self, event: Event, now: datetime, prefix: str = "") -> _Bridge | None:
        bridge_id = header(event, f"{prefix}BridgeUniqueid")
        if not bridge_id:
            return None
        bridge = self._bridges.get(bridge_id)
        if bridge is None:
            bridge = _Bridge(bridge_id=bridge_id, created_at=now)
            self._bridges[bridge_id] = bridge
        for attribute, key in (
            ("technology", "BridgeTechnology"),
            ("bridge_type", "BridgeType"),
            ("creator", "BridgeCreator"),
            ("name", "BridgeName"),
        ):
            value = caller_value(header(event, f"{prefix}{key}"))
            if value is not None:
                setattr(bridge, attribute, value)
        if bridge.creator == CONFBRIDGE_CREATOR and bridge.name:
            bridge.conference = bridge.name
        return bridge

    def _on_bridge_create(self, event: Event, now: datetime) -> None:
        self._upsert_bridge(event, now)

    def _on_bridge_enter(self, event: Event, now: datetime) -> None:
        bridge = self._upsert_bridge(event, now)
        channel = self._upsert_channel(event, now)
        if bridge is not None and channel is not None:
            self._enter_bridge(channel, bridge, now)

    def _enter_bridge(self, channel: _Channel, bridge: _Bridge, now: datetime) -> None:
        if channel.bridge_id != bridge.bridge_id:
            self._leave_bridge(channel)
        bridge.channels.add(channel.uniqueid)
        channel.bridge_id = bridge.bridge_id
        if self._party_count(bridge) >= BRIDGED_MIN_PARTIES:
            for uniqueid in bridge.channels:
                member = self._channels.get(uniqueid)
                call = self._calls.get(member.linkedid) if member else None
                if call is not None and call.bridged_at is None:
                    call.bridged_at = now

    def _on_bridge_leave(self, event: Event, now: datetime) -> None:
        self._upsert_bridge(event, now)
        channel = self._upsert_channel(event, now)
        if channel is not None and channel.bridge_id == header(event, "BridgeUniqueid"):
            self._leave_bridge(channel)

    def _leave_bridge(self, channel: _Channel) -> None:
        bridge = self._bridges.get(channel.bridge_id) if channel.bridge_id else None
        if bridge is not None:
            bridge.channels.discard(channel.uniqueid)
        channel.bridge_id = None

    def _on_bridge_destroy(self, event: Event, now: datetime) -> None:
        bridge_id = header(event, "BridgeUniqueid")
        if bridge_id:
            self._destroy_bridge(bridge_id)

    def _destroy_bridge(self, bridge_id: str) -> None:
        bridge = self._bridges.pop(bridge_id, None)
        if bridge is None:
            return
        for uniqueid in bridge.channels:
            channel = self._channels.get(uniqueid)
            if channel is not None and channel.bridge_id == bridge_id:
                channel.bridge_id = None

    def _on_bridge_merge(self, event: Event, now: datetime) -> None:
        target = self._upsert_bridge(event, now, prefix="To")
        source_id = header(event, "FromBridgeUniqueid")
        source = self._bridges.get(source_id) if source_id else None
        if target is None or source is None or source is target:
            return
        for uniqueid in list(source.channels):
            channel = self._channels.get(uniqueid)
            if channel is not None:
                self._enter_bridge(channel, target, now)

    @staticmethod
    def _is_party(channel: _Channel | None) -> bool:
        return channel is not None and not channel.name.startswith(ANNOUNCER_PREFIX)

    def _party_count(self, bridge: _Bridge) -> int:
        return sum(1 for u in bridge.channels if self._is_party(self._channels.get(u)))

    # ----- ConfBridge ----------------------------------------------------------------------

    def _upsert_room(self, event: Event, now: datetime) -> _Conference | None:
        name = header(event, "Conference")
        if not name:
            return None
        room = self._rooms.get(name)
        if room is None:
            room = _Conference(name=name, started_at=now)
            self._rooms[name] = room
        bridge = self._upsert_bridge(event, now)
        if bridge is not None:
            bridge.conference = name
            room.bridge_id = bridge.bridge_id
        return room

    def _on_conf_start(self, event: Event, now: datetime) -> None:
        self._upsert_room(event, now)

    def _on_conf_listed(self, event: Event, now: datetime) -> None:
        room = self._upsert_room(event, now)
        if room is not None and self._snapshot is not None:
            self._snapshot.rooms_seen.add(room.name)

    def _on_conf_list_complete(self, event: Event, now: datetime) -> None:
        if self._snapshot is not None:
            self._snapshot.saw_rooms = True

    def _on_conf_join(self, event: Event, now: datetime) -> None:
        room = self._upsert_room(event, now)
        channel = self._upsert_channel(event, now)
        if room is None or channel is None:
            return
        if channel.conference != room.name:
            self._leave_room(channel)
        room.channels.add(channel.uniqueid)
        channel.conference = room.name
        if self._snapshot is not None:
            self._snapshot.rooms_seen.add(room.name)

    def _on_conf_leave(self, event: Event, now: datetime) -> None:
        channel = self._upsert_channel(event, now)
        if channel is not None and channel.conference == header(event, "Conference"):
            self._leave_room(channel)

    def _leave_room(self, channel: _Channel) -> None:
        room = self._rooms.get(channel.conference) if channel.conference else None
        if room is not None:
            room.channels.discard(channel.uniqueid)
        channel.conference = None

    def _on_conf_end(self, event: Event, now: datetime) -> None:
        name = header(event, "Conference")
        if name:
            self._end_room(name)

    def _end_room(self, name: str) -> None:
        room = self._rooms.pop(name, None)
        if room is None:
            return
        for uniqueid in room.channels:
            channel = self._channels.get(uniqueid)
            if channel is not None and channel.conference == name:
                channel.conference = None

    # ----- queue ---------------------------------------------------------------------------

    def _on_queue_join(self, event: Event, now: datetime) -> None:
        queue = header(event, "Queue")
        uniqueid = header(event, "Uniqueid")
        if not queue or not uniqueid:
            return
        channel = self._upsert_channel(event, now)
        key = (queue, uniqueid)
        joined = key not in self._queue
        self._queue[key] = _QueueEntry(
            queue=queue,
            uniqueid=uniqueid,
            position=header_int(event, "Position") or self._next_position(queue),
            joined_at=self._queue[key].joined_at if not joined else now,
            channel=header(event, "Channel"),
            linkedid=channel.linkedid if channel else header(event, "Linkedid"),
            caller_number=caller_value(header(event, "CallerIDNum")),
            caller_name=caller_value(header(event, "CallerIDName")),
        )
        if joined:
            self._changes.append(CallChange(CallChangeKind.QUEUE_JOINED, uniqueid, now, queue))

    def _next_position(self, queue: str) -> int:
        return 1 + sum(1 for entry in self._queue.values() if entry.queue == queue)

    def _on_queue_leave(self, event: Event, now: datetime) -> None:
        self._queue_exit(event, now, CallChangeKind.QUEUE_LEFT)

    def _on_queue_abandon(self, event: Event, now: datetime) -> None:
        self._queue_exit(event, now, CallChangeKind.QUEUE_ABANDONED)

    def _queue_exit(self, event: Event, now: datetime, kind: CallChangeKind) -> None:
        queue = header(event, "Queue")
        uniqueid = header(event, "Uniqueid")
        if queue and uniqueid:
            self._upsert_channel(event, now)
            self._remove_queue_entry((queue, uniqueid), now, kind)

    def _remove_queue_entry(self, key: tuple[str, str], now: datetime, kind: CallChangeKind) -> None:
        """Drop a caller and move everyone behind them up one place, as app_queue does."""
        entry = self._queue.pop(key, None)
        if entry is None:
            return
        for other in self._queue.values():
            if other.queue == entry.queue and other.position > entry.position:
                other.position -= 1
        self._changes.append(CallChange(kind, entry.uniqueid, now, entry.queue))

    def _on_queue_params(self, event: Event, now: datetime) -> None:
        queue = header(event, "Queue")
        if queue and self._snapshot is not None:
            self._snapshot.queues_listed.add(queue)

    def _on_queue_entry(self, event: Event, now: datetime) -> None:
        queue = header(event, "Queue")
        uniqueid = header(event, "Uniqueid")
        if not queue or not uniqueid:
            return
        key = (queue, uniqueid)
        wait = header_int(event, "Wait")
        existing = self._queue.get(key)
        if existing is not None:
            joined_at = existing.joined_at
        else:
            joined_at = now - timedelta(seconds=wait) if wait and wait > 0 else now
        channel = self._channels.get(uniqueid)
        self._queue[key] = _QueueEntry(
            queue=queue,
            uniqueid=uniqueid,
            position=header_int(event, "Position") or self._next_position(queue),
            joined_at=joined_at,
            channel=header(event, "Channel"),
            linkedid=channel.linkedid if channel else None,
            caller_number=caller_value(header(event, "CallerIDNum")),
            caller_name=caller_value(header(event, "CallerIDName")),
        )
        if existing is None:
            self._changes.append(CallChange(CallChangeKind.QUEUE_JOINED, uniqueid, now, queue))
        if self._snapshot is not None:
            self._snapshot.queues_listed.add(queue)
            self._snapshot.entries_seen.add(key)

    # ----- snapshot lists ------------------------------------------------------------------

    def _on_core_show_channel(self, event: Event, now: datetime) -> None:
        uniqueid = header(event, "Uniqueid")
        is_new = uniqueid is not None and uniqueid not in self._channels
        channel = self._upsert_channel(event, now)
        if channel is None:
            return
        duration = parse_duration(header(event, "Duration"))
        if is_new and duration is not None:
            channel.created_at = now - duration
            call = self._calls.get(channel.linkedid)
            if call is not None and call.started_at > channel.created_at:
                call.started_at = channel.created_at
        bridge_id = header(event, "BridgeId")
        if bridge_id:
            bridge = self._bridges.get(bridge_id)
            if bridge is None:
                bridge = _Bridge(bridge_id=bridge_id, created_at=now)
                self._bridges[bridge_id] = bridge
            self._enter_bridge(channel, bridge, now)
        elif bridge_id is not None:
            self._leave_bridge(channel)
        if self._snapshot is not None:
            self._snapshot.channels_seen.add(channel.uniqueid)
            if bridge_id:
                self._snapshot.bridges_seen.add(bridge_id)

    def _on_channels_complete(self, event: Event, now: datetime) -> None:
        if self._snapshot is not None:
            self._snapshot.saw_channels = True

    def _on_bridge_list_item(self, event: Event, now: datetime) -> None:
        bridge = self._upsert_bridge(event, now)
        if bridge is not None and self._snapshot is not None:
            self._snapshot.bridges_seen.add(bridge.bridge_id)

    def _on_bridges_complete(self, event: Event, now: datetime) -> None:
        if self._snapshot is not None:
            self._snapshot.saw_bridges = True

    # ----- views ---------------------------------------------------------------------------

    def _names(self, uniqueids: set[str]) -> tuple[str, ...]:
        channels = [self._channels[u] for u in uniqueids if u in self._channels]
        channels.sort(key=lambda c: (c.created_at, c.uniqueid))
        return tuple(channel.name for channel in channels)

    _channel_view = staticmethod(view_copier(ChannelView))
    """A channel as handed out: ChannelView's fields read off the record (seat_manager.fold).
    The bridge and call views below stay written out: they derive fields (names, party count,
    three-way) rather than copy them."""

    def _bridge_view(self, bridge: _Bridge) -> BridgeView:
        return BridgeView(
            bridge_id=bridge.bridge_id,
            technology=bridge.technology,
            bridge_type=bridge.bridge_type,
            creator=bridge.creator,
            name=bridge.name,
            conference=bridge.conference,
            channels=self._names(bridge.channels),
            party_count=self._party_count(bridge),
            created_at=bridge.created_at,
        )

    def _call_view(self, call: _Call) -> CallView:
        return CallView(
            linkedid=call.linkedid,
            citizen_number=call.citizen_number,
            citizen_name=call.citizen_name,
            started_at=call.started_at,
            bridged_at=call.bridged_at,
            channels=self._names(call.channels),
            three_way=any(self.in_multiparty(u) for u in call.channels),
        )

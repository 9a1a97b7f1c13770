"""A busy hall as Asterisk 22 describes it over AMI, for bench/api_load.py.

Every seat of hotline.conf is registered and logged in to the queue; `calls` of them talk to a
citizen, each call a citizen trunk channel and the seat phone's channel in one basic bridge (the
picture after Asterisk optimised the queue's Local member channel away). `BusyHall.response`
answers the bridge's resync actions (telephony/monitor.py RESYNC_ACTIONS) with that picture, in
the frame shapes of the Asterisk 22.10.1 recordings in tests/ami_captures (01 for
QueueStatus, 07 for CoreShowChannels, 08 for a queue call); the other actions (Login, Ping,
CoreSettings, CoreStatus, Logoff) are answered as bench/state_latency.py's fake Asterisk does.

`BusyHall.turnovers()` then yields the events that keep such a hall moving while the number of
calls stays put: a citizen reaches an idle seat through the queue (Newchannel ... AgentConnect,
BridgeEnter), then the oldest call ends (BridgeLeave, Hangup, AgentComplete ...), and now and
then an idle seat pauses for a break while the longest-paused one resumes. Only events of the
classes the bridge's Login asked for are kept (as a real Asterisk would filter them).
"""

from __future__ import annotations

import itertools
import random
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from state_latency import HallScript, event_classes, frame, wanted

from ivr.names import SEAT_CONTEXT
from seat_manager.directory import Seat
from telephony.ami import AmiFramer

Headers = list[tuple[str, object]]

TRUNK_CHANNEL_PREFIX = "PJSIP/hotline-trunk"  # ivr/names.py TRUNK_NAME
TRUNK_CONTEXT = "hotline-trunk-in"  # ivr/names.py TRUNK_IN_CONTEXT
HOTLINE_EXTEN = "12345"
CITIZEN_NUMBER = "1390571{index:04d}"
UNKNOWN = "<unknown>"
"""What Asterisk shows for a caller name the trunk did not send."""
CALL_AGE_S = (20, 600)
"""How long the calls found at resync have been running (seconds, uniform)."""
HOLD_TIME_S = (3, 40)
RING_TIME_S = (2, 8)
EPOCH_BASE = 1_764_291_600
"""Uniqueids are "<epoch>.<sequence>" like Asterisk's; the epoch part is fixed for the run."""
PAUSED_SEATS = 3
"""Idle seats on a break at any time during the trickle."""
PAUSE_REASON = "小休"
PAUSE_EVERY = 4
"""Turnovers between one seat pausing (and the longest-paused one resuming)."""

DEVICE_NOT_INUSE = "NOT_INUSE"
DEVICE_INUSE = "INUSE"
DEVICE_RINGING = "RINGING"
MEMBER_IDLE = 1
MEMBER_INUSE = 2
MEMBER_RINGING = 6
CHANNEL_DOWN = (0, "Down")
CHANNEL_RING = (4, "Ring")
CHANNEL_RINGING = (5, "Ringing")
CHANNEL_UP = (6, "Up")
HANGUP_NORMAL = (16, "Normal Clearing")
CALL = "call,all"
AGENT = "agent,all"
"""The Privilege (event classes) Asterisk stamps on these events."""


@dataclass
class Leg:
    """One channel of a call."""

    uniqueid: str
    name: str
    number: str
    name_shown: str
    context: str
    exten: str


@dataclass
class Call:
    seat: Seat
    citizen: Leg
    phone: Leg
    linkedid: str
    bridge_id: str
    started: float


def channel_headers(leg: Leg, state: tuple[int, str], linkedid: str, connected: Leg | None) -> Headers:
    """The standard channel block every call event carries (capture 08)."""
    return [
        ("Channel", leg.name), ("ChannelState", state[0]), ("ChannelStateDesc", state[1]),
        ("CallerIDNum", leg.number), ("CallerIDName", leg.name_shown),
        ("ConnectedLineNum", connected.number if connected else UNKNOWN),
        ("ConnectedLineName", connected.name_shown if connected else UNKNOWN),
        ("Language", "zh"), ("AccountCode", ""), ("Context", leg.context), ("Exten", leg.exten),
        ("Priority", 1), ("Uniqueid", leg.uniqueid), ("Linkedid", linkedid),
    ]


def dest_headers(leg: Leg, state: tuple[int, str], linkedid: str, connected: Leg | None) -> Headers:
    """The same block for the dialled side, every key prefixed with Dest."""
    return [(f"Dest{key}", value) for key, value in channel_headers(leg, state, linkedid, connected)]


def _admitted(raw: bytes, classes: frozenset[str] | None) -> bool:
    messages = AmiFramer().feed(raw)
    return len(messages) == 1 and wanted(messages[0], classes)


def event(name: str, privilege: str, *headers: tuple[str, object]) -> bytes:
    return frame(("Event", name), ("Privilege", privilege), *headers)


def bridge_headers(bridge_id: str, channels: int) -> Headers:
    return [("BridgeUniqueid", bridge_id), ("BridgeType", "basic"), ("BridgeTechnology", "simple_bridge"),
            ("BridgeCreator", "<unknown>"), ("BridgeName", "<unknown>"), ("BridgeNumChannels", channels),
            ("BridgeVideoSourceMode", "none")]


class BusyHall:
    """The hall's live picture and the traffic that keeps it busy; frames as bytes."""

    def __init__(self, seats: list[Seat], queue: str, calls: int, seed: int) -> None:
        if not 0 < calls <= len(seats):
            raise ValueError(f"calls must be between 1 and the {len(seats)} seats")
        self.seats = seats
        self.queue = queue
        self.rng = random.Random(seed)
        self.base = HallScript(seats, queue)
        self.login_time = int(time.time())
        self._sequence = itertools.count(1)
        self._channel_numbers = itertools.count(1)
        self._citizens = itertools.count(1)
        self.calls: deque[Call] = deque()
        self.calls_taken: dict[str, int] = {seat.seat_id: 0 for seat in seats}
        busy = sorted(self.rng.sample(range(len(seats)), calls))
        now = time.time()
        for index in busy:
            self.calls.append(self._new_call(seats[index], now - self.rng.uniform(*CALL_AGE_S)))
        self.calls = deque(sorted(self.calls, key=lambda call: call.started))
        busy_ids = {call.seat.seat_id for call in self.calls}
        self.idle: deque[Seat] = deque(seat for seat in seats if seat.seat_id not in busy_ids)
        self.paused: deque[Seat] = deque()
        self.turnover_count = 0

    # ----- ids and calls -------------------------------------------------------------------------

    def _uniqueid(self) -> str:
        return f"{EPOCH_BASE}.{next(self._sequence)}"

    def _channel_name(self, device: str) -> str:
        """"PJSIP/1007-0000002a": Asterisk numbers channels in hex, one counter for all."""
        return f"{device}-{next(self._channel_numbers):08x}"

    def _new_call(self, seat: Seat, started: float) -> Call:
        number = CITIZEN_NUMBER.format(index=next(self._citizens) % 10_000)
        citizen = Leg(self._uniqueid(), self._channel_name(TRUNK_CHANNEL_PREFIX), number, UNKNOWN,
                      TRUNK_CONTEXT, HOTLINE_EXTEN)
        phone = Leg(self._uniqueid(), self._channel_name(seat.device), seat.endpoint, seat.endpoint,
                    SEAT_CONTEXT, seat.seat_id)
        bridge_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return Call(seat, citizen, phone, citizen.uniqueid, bridge_id, started)

    def busy_seat_ids(self) -> set[str]:
        return {call.seat.seat_id for call in self.calls}

    # ----- resync answers ------------------------------------------------------------------------

    def response(self, action: str, action_id: str) -> bytes:
        """The answer (and list) for one action the bridge sends."""
        key = action.lower()
        lists = {
            "devicestatelist": ("Device State Changes will follow", self._devices, "DeviceStateListComplete"),
            "queuestatus": ("Queue status will follow", self._queue_status, "QueueStatusComplete"),
            "coreshowchannels": ("Channels will follow", self._channels, "CoreShowChannelsComplete"),
        }
        if key not in lists:
            return self.base.response(action, action_id)
        message, items, complete = lists[key]
        aid = ("ActionID", action_id)
        events = items()
        return b"".join([
            frame(("Response", "Success"), aid, ("EventList", "start"), ("Message", message)),
            *(frame(*event, aid) for event in events),
            frame(("Event", complete), aid, ("EventList", "Complete"), ("ListItems", len(events))),
        ])

    def _devices(self) -> list[Headers]:
        busy = self.busy_seat_ids()
        return [[("Event", "DeviceStateChange"), ("Device", seat.device),
                 ("State", DEVICE_INUSE if seat.seat_id in busy else DEVICE_NOT_INUSE)]
                for seat in self.seats]

    def _member(self, seat: Seat, *, status: int, in_call: bool, paused: bool = False,
                reason: str = "") -> Headers:
        """A queue member's fields, as QueueMember / QueueMemberStatus carry them (capture 08)."""
        taken = self.calls_taken[seat.seat_id]
        return [
            ("Queue", self.queue), ("MemberName", seat.member_name), ("Interface", seat.interface),
            ("StateInterface", seat.state_interface), ("Membership", "dynamic"), ("Penalty", 0),
            ("CallsTaken", taken), ("LastCall", int(time.time()) if taken else 0),
            ("LastPause", int(time.time()) if paused else 0), ("LoginTime", self.login_time),
            ("InCall", int(in_call)), ("Status", status), ("Paused", int(paused)),
            ("PausedReason", reason), ("Ringinuse", 0), ("Wrapuptime", 0),
        ]

    def _queue_status(self) -> list[Headers]:
        params: Headers = [
            ("Event", "QueueParams"), ("Queue", self.queue), ("Max", 0), ("Strategy", "rrmemory"),
            ("Calls", 0), ("Holdtime", 0), ("TalkTime", 0), ("Completed", 0), ("Abandoned", 0),
            ("ServiceLevel", 0), ("ServicelevelPerf", "0.0"), ("ServicelevelPerf2", "0.0"), ("Weight", 0)]
        busy = self.busy_seat_ids()
        paused = {seat.seat_id for seat in self.paused}
        members = []
        for seat in self.seats:
            on_call, on_break = seat.seat_id in busy, seat.seat_id in paused
            taken = self.calls_taken[seat.seat_id]
            # QueueMember names the member "Name" and its interface "Location" (as in
            # bench/state_latency.py, from Asterisk 22's AMI documentation).
            members.append([
                ("Event", "QueueMember"), ("Queue", self.queue), ("Name", seat.member_name),
                ("Location", seat.interface), ("StateInterface", seat.state_interface),
                ("Membership", "dynamic"), ("Penalty", 0), ("CallsTaken", taken), ("LastCall", 0),
                ("LastPause", 0), ("LoginTime", self.login_time), ("InCall", int(on_call)),
                ("Status", MEMBER_INUSE if on_call else MEMBER_IDLE), ("Paused", int(on_break)),
                ("PausedReason", PAUSE_REASON if on_break else ""), ("Wrapuptime", 0)])
        return [params, *members]

    def _channels(self) -> list[Headers]:
        now = time.time()
        items: list[Headers] = []
        for call in self.calls:
            age = int(now - call.started)
            duration = f"{age // 3600:02d}:{age // 60 % 60:02d}:{age % 60:02d}"
            for leg, other, application, data in (
                    (call.citizen, call.phone, "Queue", self.queue),
                    (call.phone, call.citizen, "AppQueue", "(Outgoing Line)")):
                items.append([("Event", "CoreShowChannel"),
                              *channel_headers(leg, CHANNEL_UP, call.linkedid, other),
                              ("Application", application), ("ApplicationData", data),
                              ("Duration", duration), ("BridgeId", call.bridge_id)])
        return items

    # ----- the trickle ---------------------------------------------------------------------------

    def turnovers(self, events_mask: str) -> Iterator[list[bytes]]:
        """Turnovers forever, each a list of frames, as Asterisk would send them to a session
        that logged in with this Events mask. The calls in progress are back to their number
        at the end of each turnover."""
        classes = event_classes(events_mask)
        while True:
            yield [raw for raw in self._turnover() if _admitted(raw, classes)]

    def _turnover(self) -> list[bytes]:
        """A new call on the longest-idle seat, then the oldest call ends; a break now and then."""
        self.turnover_count += 1
        frames = self._answer_call(self.idle.popleft())
        ended = self.calls.popleft()
        frames += self._end_call(ended)
        self.idle.append(ended.seat)
        if self.turnover_count % PAUSE_EVERY == 0:
            frames += self._breaks()
        return frames

    def _answer_call(self, seat: Seat) -> list[bytes]:
        """A citizen comes in on the trunk, waits in the queue, and the seat answers (capture 08)."""
        call = self._new_call(seat, time.time())
        citizen, phone, linkedid = call.citizen, call.phone, call.linkedid
        self.calls.append(call)

        def on(leg: Leg, state: tuple[int, str], other: Leg | None = None) -> Headers:
            return channel_headers(leg, state, linkedid, other)

        def to(leg: Leg, state: tuple[int, str], other: Leg | None = None) -> Headers:
            return dest_headers(leg, state, linkedid, other)

        queue = [("Queue", self.queue)]
        agent = [*queue, ("Interface", seat.interface), ("MemberName", seat.member_name)]
        waited = [("HoldTime", self.rng.randint(*HOLD_TIME_S)), ("RingTime", self.rng.randint(*RING_TIME_S))]
        bridge = call.bridge_id
        return [
            event("Newchannel", CALL, *on(citizen, CHANNEL_RING)),
            event("Newstate", CALL, *on(citizen, CHANNEL_UP)),
            event("QueueCallerJoin", AGENT, *on(citizen, CHANNEL_UP), *queue, ("Position", 1), ("Count", 1)),
            event("Newchannel", CALL, *on(phone, CHANNEL_DOWN)),
            event("AgentCalled", AGENT, *on(citizen, CHANNEL_UP), *to(phone, CHANNEL_DOWN, citizen), *agent),
            event("DialBegin", CALL, *on(citizen, CHANNEL_UP), *to(phone, CHANNEL_DOWN),
                  ("DialString", seat.device)),
            event("Newstate", CALL, *on(phone, CHANNEL_RINGING, citizen)),
            event("DeviceStateChange", CALL, ("Device", seat.device), ("State", DEVICE_RINGING)),
            event("QueueMemberStatus", AGENT, *self._member(seat, status=MEMBER_RINGING, in_call=False)),
            event("Newstate", CALL, *on(phone, CHANNEL_UP, citizen)),
            event("DialEnd", CALL, *on(citizen, CHANNEL_UP, phone), *to(phone, CHANNEL_UP, citizen),
                  ("DialStatus", "ANSWER")),
            event("QueueCallerLeave", AGENT, *on(citizen, CHANNEL_UP, phone), *queue, ("Position", 1),
                  ("Count", 0)),
            event("AgentConnect", AGENT, *on(citizen, CHANNEL_UP, phone), *to(phone, CHANNEL_UP, citizen),
                  *agent, *waited),
            event("BridgeCreate", CALL, *bridge_headers(bridge, 0)),
            event("BridgeEnter", CALL, *bridge_headers(bridge, 1), *on(phone, CHANNEL_UP, citizen)),
            event("BridgeEnter", CALL, *bridge_headers(bridge, 2), *on(citizen, CHANNEL_UP, phone)),
            event("DeviceStateChange", CALL, ("Device", seat.device), ("State", DEVICE_INUSE)),
            event("QueueMemberStatus", AGENT, *self._member(seat, status=MEMBER_INUSE, in_call=True)),
        ]

    def _end_call(self, call: Call) -> list[bytes]:
        """The citizen hangs up; the seat goes to wrap-up (capture 08)."""
        seat, citizen, phone, linkedid = call.seat, call.citizen, call.phone, call.linkedid
        self.calls_taken[seat.seat_id] += 1
        citizen_up = channel_headers(citizen, CHANNEL_UP, linkedid, phone)
        phone_up = channel_headers(phone, CHANNEL_UP, linkedid, citizen)
        hangup = [("Cause", HANGUP_NORMAL[0]), ("Cause-txt", HANGUP_NORMAL[1])]
        talked = [("HoldTime", 0), ("TalkTime", int(time.time() - call.started)), ("Reason", "caller")]
        return [
            event("BridgeLeave", CALL, *bridge_headers(call.bridge_id, 1), *citizen_up),
            event("SoftHangupRequest", CALL, *citizen_up, ("Cause", HANGUP_NORMAL[0])),
            event("Hangup", CALL, *citizen_up, *hangup),
            event("AgentComplete", AGENT, *citizen_up, *dest_headers(phone, CHANNEL_UP, linkedid, citizen),
                  ("Queue", self.queue), ("Interface", seat.interface), ("MemberName", seat.member_name),
                  *talked),
            event("BridgeLeave", CALL, *bridge_headers(call.bridge_id, 0), *phone_up),
            event("BridgeDestroy", CALL, *bridge_headers(call.bridge_id, 0)),
            event("Hangup", CALL, *phone_up, *hangup),
            event("DeviceStateChange", CALL, ("Device", seat.device), ("State", DEVICE_NOT_INUSE)),
            event("QueueMemberStatus", AGENT, *self._member(seat, status=MEMBER_IDLE, in_call=False)),
        ]

    def _breaks(self) -> list[bytes]:
        """The longest-idle seat goes on a break; past PAUSED_SEATS, the longest-paused returns."""
        seat = self.idle.popleft()
        self.paused.append(seat)
        frames = [event("QueueMemberPause", AGENT, *self._member(
            seat, status=MEMBER_IDLE, in_call=False, paused=True, reason=PAUSE_REASON))]
        if len(self.paused) > PAUSED_SEATS:
            back = self.paused.popleft()
            self.idle.append(back)
            frames.append(event("QueueMemberPause", AGENT, *self._member(back, status=MEMBER_IDLE,
                                                                          in_call=False)))
        return frames

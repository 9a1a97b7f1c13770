"""The call picture replayed over AMI transcripts recorded from the project's sandbox Asterisk
(tests/ami_captures/, `python -m tests.record_ami`); hand-built events only where noted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from telephony.calls import CallBook, CallChange, CallChangeKind, parse_duration
from tests.ami_transcripts import (
    Replay,
    channel_named,
    find_event,
    header_of,
    load_transcript,
    transcripts_dir,
)

CAPTURE_START = datetime.fromtimestamp(1795813120, tz=UTC)
CITIZEN = "13812345678"  # the recorder's Local citizen
ENTRY = "Local/12345@hotline-entry-"  # the citizen's Local channel: ;1 the caller, ;2 the IVR side


def replay(name: str, book: CallBook | None = None) -> tuple[CallBook, Replay[CallChange]]:
    book = book or CallBook()
    return book, Replay(load_transcript(name), book.apply, CAPTURE_START)


def kinds(changes: list[CallChange]) -> list[tuple[CallChangeKind, str]]:
    return [(c.kind, c.key) for c in changes]


def test_queue_call_from_join_to_hangup() -> None:
    book, run = replay("08")
    caller = channel_named(run.messages, ENTRY)
    linkedid = header_of(run.messages, "Linkedid", "Newchannel", Channel=caller)
    citizen_leg = header_of(run.messages, "Channel", "QueueCallerJoin")
    queued = header_of(run.messages, "Uniqueid", "QueueCallerJoin")  # the IVR half waits
    member = channel_named(run.messages, "Local/01@hotline-seat-")
    phone = channel_named(run.messages, "PJSIP/1001-")
    started = run.through("Newchannel", Channel=caller)
    assert kinds(started) == [(CallChangeKind.CALL_STARTED, linkedid)]

    assert kinds(run.through("QueueCallerJoin")) == [(CallChangeKind.QUEUE_JOINED, queued)]
    (waiting,) = book.queue()
    assert waiting.queue == "hotline" and waiting.position == 1
    assert waiting.caller_number == CITIZEN
    assert waiting.joined_at == run.now
    assert waiting.linkedid == linkedid
    (call,) = book.calls()
    assert call.citizen_number == CITIZEN
    assert call.bridged_at is None

    assert kinds(run.through("QueueCallerLeave")) == [(CallChangeKind.QUEUE_LEFT, queued)]
    assert book.queue() == ()

    run.through("BridgeEnter", Channel=citizen_leg)
    (bridge,) = [b for b in book.bridges() if citizen_leg in b.channels]
    assert bridge.technology == "simple_bridge" and bridge.bridge_type == "basic"
    assert bridge.party_count == 2 and not bridge.multiparty
    assert set(bridge.channels) == {member, citizen_leg}
    seat_channel = book.channel_by_name(member)
    assert seat_channel is not None
    assert seat_channel.connected_number == CITIZEN
    assert seat_channel.answered_at is not None
    assert book.bridge_of(seat_channel.uniqueid) == bridge
    (call,) = book.calls()
    assert call.bridged_at == run.now
    assert call.three_way is False
    # Both halves of the citizen's and of the member's Local channels, and the phone.
    assert set(call.channels) == {caller, citizen_leg, member, member[:-1] + "2", phone}

    # Asterisk optimises the member's Local channel away: the phone joins the citizen's bridge.
    run.through("LocalOptimizationEnd")
    bridge = book.bridge_of(book.channel_by_name(citizen_leg).uniqueid)  # type: ignore[union-attr]
    assert bridge is not None and set(bridge.channels) == {phone, citizen_leg}

    ended = run.rest()
    assert (CallChangeKind.CALL_ENDED, linkedid) in kinds(ended)
    assert book.calls() == () and book.channels() == () and book.bridges() == ()


def test_three_way_by_redirect_into_a_confbridge_room() -> None:
    book, run = replay("06")
    citizen_leg = header_of(run.messages, "Channel", "QueueCallerJoin")
    linkedid = header_of(run.messages, "Linkedid", "QueueCallerJoin")
    run.through("ConfbridgeStart")
    (room,) = book.conferences()
    assert room.name == "4242" and room.channels == ()
    assert room.bridge_id is not None
    room_bridge = book.bridge(room.bridge_id)
    assert room_bridge is not None
    assert room_bridge.technology == "softmix" and room_bridge.conference == "4242"

    run.through("ConfbridgeJoin", Channel=citizen_leg)
    (call,) = [c for c in book.calls() if c.linkedid == linkedid]
    assert call.three_way is True  # in a ConfBridge room
    assert call.citizen_number == CITIZEN

    expert = channel_named(run.messages, "Local/2001@hotline-expert-")
    # ConfbridgeJoin and the room's BridgeEnter of the expert come in either order.
    run.through_index(max(find_event(run.messages, "ConfbridgeJoin", 0, Channel=expert),
                          find_event(run.messages, "BridgeEnter", 0, Channel=expert)))
    (room,) = book.conferences()
    assert len(room.channels) == 3
    room_bridge = book.bridge(room.bridge_id or "")
    assert room_bridge is not None and room_bridge.party_count == 3

    run.through("ConfbridgeEnd")
    assert book.conferences() == ()
    run.rest()
    assert book.calls() == () and book.bridges() == ()


def test_three_way_by_bridge_add_and_linkedid_moves() -> None:
    book, run = replay("07")
    citizen_leg = header_of(run.messages, "Channel", "QueueCallerJoin")
    linkedid = header_of(run.messages, "Linkedid", "QueueCallerJoin")
    joiner = channel_named(run.messages, "Local/s@hotline-bridge-join-")[:-1] + "2"  # BridgeAdd's half
    joiner_id = header_of(run.messages, "Uniqueid", "Newchannel", Channel=joiner)
    assert header_of(run.messages, "Linkedid", "Newchannel", Channel=joiner) != linkedid
    run.through("BridgeEnter", Channel=citizen_leg)
    (call,) = [c for c in book.calls() if c.linkedid == linkedid]
    assert call.three_way is False

    run.through("BridgeEnter", Channel=joiner)
    bridge = book.bridge_of(joiner_id)
    assert bridge is not None and bridge.party_count == 3 and bridge.multiparty
    assert bridge.technology == "simple_bridge"  # what BridgeEnter reported at that instant
    expert = book.channel(joiner_id)
    assert expert is not None and expert.linkedid == linkedid  # joined the citizen's call
    call = book.call(linkedid)
    assert call is not None and call.three_way and joiner in call.channels

    run.through("BridgeListItem", BridgeUniqueid=bridge.bridge_id)  # BridgeList's order varies
    bridge = book.bridge(bridge.bridge_id)
    assert bridge is not None and bridge.technology == "softmix"  # the softmix switch is visible

    # The citizen leaves; operator and expert talk on; the call keeps the citizen's number.
    run.through("Hangup", Channel=citizen_leg)
    call = book.call(linkedid)
    assert call is not None and call.citizen_number == CITIZEN
    assert call.three_way is False  # two parties left in the bridge


def test_events_after_a_hangup_do_not_resurrect_the_channel() -> None:
    book, run = replay("07")
    caller = channel_named(run.messages, ENTRY)
    hangup = find_event(run.messages, "Hangup", 0, Channel=caller)
    late = find_event(run.messages, "NewCallerid", hangup, Channel=caller)
    run.through_index(late)
    assert book.channel(run.messages[hangup]["Uniqueid"]) is None


def test_abandoned_queue_caller() -> None:
    book, run = replay("04")
    queued = header_of(run.messages, "Uniqueid", "QueueCallerJoin")
    run.through("QueueCallerJoin")
    assert len(book.queue("hotline")) == 1
    assert kinds(run.through("QueueCallerAbandon")) == [(CallChangeKind.QUEUE_ABANDONED, queued)]
    assert book.queue() == ()
    assert run.through("QueueCallerLeave") == []  # already gone


def test_positions_move_up_when_a_caller_leaves() -> None:
    # Hand-built: the captures never have more than one caller waiting.
    book = CallBook()
    now = CAPTURE_START
    for position, uniqueid in enumerate(["1.1", "1.2", "1.3"], start=1):
        book.apply(
            {
                "Event": "QueueCallerJoin",
                "Queue": "hotline",
                "Position": str(position),
                "Count": str(position),
                "Channel": f"PJSIP/trunk-0000000{position}",
                "Uniqueid": uniqueid,
                "Linkedid": uniqueid,
                "CallerIDNum": f"1380000000{position}",
            },
            now + timedelta(seconds=position),
        )
    book.apply(
        {"Event": "QueueCallerAbandon", "Queue": "hotline", "Uniqueid": "1.2", "Position": "2"},
        now + timedelta(seconds=9),
    )
    assert [(c.uniqueid, c.position) for c in book.queue("hotline")] == [("1.1", 1), ("1.3", 2)]
    assert book.queue("hotline")[1].waited(now + timedelta(seconds=13)) == timedelta(seconds=10)


def test_core_show_channels_snapshot_rebuilds_then_replaces() -> None:
    messages = load_transcript("07")
    first = find_event(messages, "CoreShowChannel")
    last = find_event(messages, "CoreShowChannelsComplete", first)
    listed = messages[first:last]
    linkedid = header_of(messages, "Linkedid", "QueueCallerJoin")
    book = CallBook()
    now = CAPTURE_START
    book.begin_snapshot()
    for message in messages[first : last + 1]:
        book.apply(message, now)
    book.end_snapshot(now)
    assert len(book.channels()) == len(listed) == 3  # the citizen's two halves and the phone
    phone = next(m for m in listed if m["Channel"].startswith("PJSIP/1001-"))
    seat_half = book.channel(phone["Uniqueid"])
    assert seat_half is not None
    assert seat_half.created_at == now - parse_duration(phone["Duration"])  # type: ignore[operator]
    assert {c.linkedid for c in book.calls()} == {linkedid}

    # Next resync: 01's real, empty channel list. Everything not listed is gone.
    book.begin_snapshot()
    for message in load_transcript("01"):
        book.apply(message, now)
    changes = book.end_snapshot(now + timedelta(seconds=5))
    assert book.channels() == () and book.calls() == ()
    assert sorted(kinds(changes)) == [(CallChangeKind.CALL_ENDED, linkedid)]


def test_queue_status_snapshot_replaces_waiting_callers() -> None:
    book, run = replay("04")
    queued = header_of(run.messages, "Uniqueid", "QueueCallerJoin")
    run.through("QueueCallerJoin")  # a caller the resync will not list any more
    book.begin_snapshot()
    now = run.advance(1)
    # Hand-built QueueEntry: the recordings' QueueStatus answers never have anyone waiting.
    book.apply({"Event": "QueueParams", "Queue": "hotline", "Calls": "1"}, now)
    book.apply(
        {
            "Event": "QueueEntry",
            "Queue": "hotline",
            "Position": "1",
            "Channel": "PJSIP/trunk-00000042",
            "Uniqueid": "1795813200.1",
            "CallerIDNum": "13912345678",
            "Wait": "42",
        },
        now,
    )
    book.apply({"Event": "QueueStatusComplete", "EventList": "Complete"}, now)
    changes = book.end_snapshot(now)
    assert kinds(changes) == [(CallChangeKind.QUEUE_LEFT, queued)]
    (entry,) = book.queue()
    assert entry.uniqueid == "1795813200.1" and entry.caller_number == "13912345678"
    assert entry.joined_at == now - timedelta(seconds=42)


def test_rename_and_operator_originated_calls() -> None:
    # Hand-built: no capture renames a channel or has an operator calling a citizen back.
    book = CallBook(is_internal=lambda name: name.startswith("PJSIP/1001-"))
    now = CAPTURE_START
    book.apply(
        {
            "Event": "Newchannel",
            "Channel": "PJSIP/1001-00000001",
            "Uniqueid": "9.1",
            "Linkedid": "9.1",
            "ChannelState": "4",
            "CallerIDNum": "1001",
            "ConnectedLineNum": "<unknown>",
        },
        now,
    )
    book.apply(
        {
            "Event": "NewConnectedLine",
            "Channel": "PJSIP/1001-00000001",
            "Uniqueid": "9.1",
            "Linkedid": "9.1",
            "CallerIDNum": "1001",
            "ConnectedLineNum": "13812345678",
        },
        now,
    )
    call = book.call("9.1")
    assert call is not None and call.citizen_number == "13812345678"
    book.apply(
        {"Event": "Rename", "Channel": "PJSIP/1001-00000001", "Newname": "PJSIP/x", "Uniqueid": "9.1"}, now
    )
    assert book.channel_by_name("PJSIP/x") is not None
    assert book.channel_by_name("PJSIP/1001-00000001") is None


def test_parse_duration() -> None:
    assert parse_duration("01:02:03") == timedelta(hours=1, minutes=2, seconds=3)
    assert parse_duration("1:2") is None
    assert parse_duration("aa:bb:cc") is None
    assert parse_duration(None) is None


def test_garbage_and_mangled_events_are_ignored() -> None:
    book = CallBook()
    for event in [
        {},
        {"Event": "Nope"},
        {"Event": "BridgeEnter"},
        {"Event": "QueueCallerJoin", "Queue": "q"},
    ]:
        assert book.apply(event, CAPTURE_START) == []
    now = CAPTURE_START
    for path in sorted(transcripts_dir().glob("*.txt")):
        for message in load_transcript(path.name):
            if message.get("Event") in {"VarSet", "Newexten", "TestEvent", "RTCPSent", "RTCPReceived"}:
                continue
            for variant in [*_mangled(message), message]:
                now += timedelta(milliseconds=10)
                book.apply(variant, now)
    book.begin_snapshot()
    book.end_snapshot(now)


def _mangled(message: Mapping[str, str]) -> list[dict[str, str]]:
    droppable = [key for key in message if key != "Event"]
    variants = [{k: v for k, v in message.items() if k != dropped} for dropped in droppable]
    variants.append({k: (v if k == "Event" else "\x00garbage;1") for k, v in message.items()})
    return variants

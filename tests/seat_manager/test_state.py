"""The seat board replayed over AMI transcripts recorded from the project's sandbox Asterisk
(tests/ami_captures/, `python -m tests.record_ami`); hand-built events only where noted."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from seat_manager.directory import Seat, SeatDirectory
from seat_manager.state import DeviceState, SeatChange, SeatState, parse_device_state
from telephony.picture import HallPicture
from tests.ami_transcripts import (
    Replay,
    channel_named,
    find_event,
    header_of,
    load_transcript,
    transcripts_dir,
)

WRAPUP = 30
# Replays run on a simulated clock (one second per message) from this instant.
CAPTURE_START = datetime.fromtimestamp(1795813120, tz=UTC)

# The shipped hotline.conf's seats as the recorder logs them in (Local member, phone state).
SEAT_01 = Seat.standard("01", "1001")  # 06, 07, 08
SEAT_02 = Seat.standard("02", "1002")  # 05, 10
SEAT_03 = Seat.standard("03", "1003")  # 05: a member whose phone never registers
CITIZEN = "13812345678"  # the recorder's Local citizen
CITIZEN_ENTRY = "Local/12345@hotline-entry-"  # its channels


def replay(name: str, *seats: Seat, wrapup: int = WRAPUP) -> tuple[HallPicture, Replay[SeatChange]]:
    board = HallPicture(SeatDirectory(seats), wrapup)
    return board, Replay(load_transcript(name), board.apply, CAPTURE_START)


def moves(changes: list[SeatChange]) -> list[tuple[str, str, str]]:
    return [(c.seat_id, c.old.value, c.new.value) for c in changes]


def state_of(board: HallPicture, seat_id: str) -> SeatState:
    view = board.seat(seat_id)
    assert view is not None
    return view.state


def citizen_bridged(messages: list[dict[str, str]]) -> str:
    """The citizen's leg that enters the queue bridge (the ;2 half of its Local channel)."""
    return header_of(messages, "Channel", "QueueCallerJoin")


# ----- 08: a SIP seat takes a queue call -------------------------------------------------------


def test_sip_seat_takes_a_queue_call_then_wraps_up() -> None:
    board, run = replay("08", SEAT_01)
    assert state_of(board, "01") is SeatState.OFFLINE
    phone = channel_named(run.messages, "PJSIP/1001-")
    linkedid = header_of(run.messages, "Linkedid", "QueueCallerJoin")

    # The phone registers (not yet a member: logged out), then the operator logs in.
    assert moves(run.through("ContactStatus")) == [("01", "offline", "logged_out")]
    assert moves(run.through("QueueMemberAdded")) == [("01", "logged_out", "available")]
    seat = board.seat("01")
    assert seat is not None and seat.queues == ("hotline",) and seat.registered is True

    assert moves(run.through("AgentCalled")) == [("01", "available", "ringing")]
    seat = board.seat("01")
    assert seat is not None and seat.call is not None
    assert seat.call.citizen_number == CITIZEN
    assert seat.call.queue == "hotline"
    assert seat.call.started_at is None

    # The phone's channel answers before Asterisk's device state catches up.
    changes = run.through("Newstate", Channel=phone, ChannelStateDesc="Up")
    assert moves(changes) == [("01", "ringing", "on_call")]

    assert run.through("AgentConnect") == []
    connected_at = run.now
    run.through("BridgeEnter", Channel=citizen_bridged(run.messages))
    seat = board.seat("01")
    assert seat is not None and seat.state is SeatState.ON_CALL and seat.call is not None
    assert seat.call.citizen_number == CITIZEN
    assert seat.call.queue_wait_seconds == 0
    assert seat.call.started_at == connected_at
    assert seat.call.linkedid == linkedid
    # The queue bridged the Local member channel (Asterisk optimises it away later).
    assert seat.call.seat_channel == channel_named(run.messages, "Local/01@hotline-seat-")
    assert seat.call.three_way is False

    assert run.through("AgentComplete") == []  # the operator's phone is still up
    changes = run.through("DeviceStateChange", Device="PJSIP/1001", State="NOT_INUSE")
    assert moves(changes) == [("01", "on_call", "wrap_up")]
    ended_at = run.now
    seat = board.seat("01")
    assert seat is not None and seat.call is not None
    assert seat.wrapup_until == ended_at + timedelta(seconds=WRAPUP)
    assert seat.call.ended_at == ended_at
    assert seat.call.citizen_number == CITIZEN  # kept for the work order

    run.through("QueueMemberStatus")
    assert board.tick(ended_at + timedelta(seconds=WRAPUP - 1)) == []
    done = board.tick(ended_at + timedelta(seconds=WRAPUP))
    assert moves(done) == [("01", "wrap_up", "available")]
    assert done[0].at == ended_at + timedelta(seconds=WRAPUP)
    seat = board.seat("01")
    assert seat is not None and seat.call is None and seat.state_since == done[0].at

    run.advance(WRAPUP)
    # The operator logs out, then the phone unregisters.
    assert moves(run.rest()) == [("01", "available", "logged_out"), ("01", "logged_out", "offline")]
    assert board.calls.calls() == ()


def test_without_wrap_up_the_seat_is_available_as_soon_as_the_call_ends() -> None:
    _, run = replay("08", SEAT_01, wrapup=0)
    run.through("AgentComplete")
    changes = run.through("DeviceStateChange", Device="PJSIP/1001", State="NOT_INUSE")
    assert moves(changes) == [("01", "on_call", "available")]


# ----- 05: member add / pause / remove ---------------------------------------------------------


def test_pause_with_reason_unpause_and_remove() -> None:
    board = HallPicture(SeatDirectory([SEAT_02, SEAT_03]), WRAPUP)
    messages = load_transcript("05")
    # The simulated clock runs on the recording's own day, so Asterisk's LastPause lies in the
    # past (a LastPause in the future is ignored as a clock skew).
    recorded = int(header_of(messages, "LastPause", "QueueMemberPause", Paused="1"))
    run = Replay(messages, board.apply, datetime.fromtimestamp(recorded, tz=UTC) - timedelta(seconds=5))
    assert moves(run.through("QueueMemberAdded", MemberName="02")) == [
        ("02", "offline", "logged_out"),  # the phone registered first
        ("02", "logged_out", "available"),
    ]

    # Seat 03's phone is not registered (Status 5 = UNAVAILABLE): a member, but offline.
    assert run.through("QueueMemberAdded", MemberName="03") == []
    seat3 = board.seat("03")
    assert seat3 is not None and seat3.state is SeatState.OFFLINE
    assert seat3.member and seat3.registered is False
    assert seat3.device_state is DeviceState.UNAVAILABLE

    assert moves(run.through("QueueMemberPause", Paused="1")) == [("02", "available", "paused")]
    seat = board.seat("02")
    assert seat is not None and seat.paused
    assert seat.pause_reason == "lunch"
    assert seat.paused_since == datetime.fromtimestamp(recorded, tz=UTC)  # Asterisk's LastPause
    assert seat.paused_since != run.now

    assert moves(run.through("QueueMemberPause", Paused="0")) == [("02", "paused", "available")]
    seat = board.seat("02")
    assert seat is not None and not seat.paused and seat.pause_reason is None

    # A direct call rings the phone (Asterisk reports the device BUSY), it answers, the
    # caller hangs up: a call, then wrap-up.
    changes = run.through("Newstate", Channel=channel_named(run.messages, "PJSIP/1002-"),
                          ChannelStateDesc="Up")
    assert state_of(board, "02") is SeatState.ON_CALL, moves(changes)
    assert moves(run.through("DeviceStateChange", Device="PJSIP/1002", State="NOT_INUSE")) == [
        ("02", "on_call", "wrap_up")
    ]

    assert moves(run.through("QueueMemberRemoved", MemberName="02")) == [("02", "wrap_up", "logged_out")]
    assert run.through("QueueMemberRemoved", MemberName="03") == []
    seat3 = board.seat("03")
    assert seat3 is not None and seat3.state is SeatState.OFFLINE and not seat3.member


def test_paused_operator_still_on_a_call_is_on_call_with_the_pause_flag() -> None:
    board, run = replay("08", SEAT_01)
    run.through("AgentConnect")
    # Hand-built: the recordings never pause a seat in the middle of a call.
    pause = {
        "Event": "QueueMemberPause",
        "Queue": "hotline",
        "MemberName": "01",
        "Interface": "Local/01@hotline-seat",
        "StateInterface": "PJSIP/1001",
        "Status": "2",
        "Paused": "1",
        "PausedReason": "toilet",
        "InCall": "1",
    }
    assert board.apply(pause, run.advance(1)) == []
    seat = board.seat("01")
    assert seat is not None and seat.state is SeatState.ON_CALL and seat.paused
    assert seat.pause_reason == "toilet"

    run.through("AgentComplete")
    # Hand-built: the queue's view of the member once the call is over (InCall 0, still paused).
    board.apply({**pause, "Status": "1", "InCall": "0"}, run.advance(1))
    changes = run.through("DeviceStateChange", Device="PJSIP/1001", State="NOT_INUSE")
    assert moves(changes) == [("01", "on_call", "paused")]  # pause outranks wrap-up


def _mid_call(event: str, **extra: str) -> dict[str, str]:
    """Hand-built: the captures never pause or log out a seat in the middle of a call."""
    return {"Event": event, "Queue": "hotline", "MemberName": "01", "Interface": "Local/01@hotline-seat",
            "StateInterface": "PJSIP/1001", "Status": "2", **extra}


@pytest.mark.parametrize(("during", "after", "then"), [
    (_mid_call("QueueMemberPause", Paused="1", PausedReason="toilet", InCall="1"),
     _mid_call("QueueMemberPause", Paused="1", PausedReason="toilet", InCall="0", Status="1"), "paused"),
    (_mid_call("QueueMemberRemoved"), None, "logged_out"),
])
def test_a_call_that_ends_after_a_pause_or_logout_is_handed_to_the_recorder(
        during: dict[str, str], after: dict[str, str] | None, then: str) -> None:
    """Issue 13: the seat's call was cleared for any state but wrap-up, so it was never recorded."""
    board, run = replay("08", SEAT_01)
    run.through("AgentConnect")
    started_at = run.now
    assert board.apply(during, run.advance(1)) == []
    run.through("AgentComplete")
    changes = board.apply(after, run.advance(1)) if after is not None else []
    changes += run.through("DeviceStateChange", Device="PJSIP/1001", State="NOT_INUSE")
    assert moves(changes) == [("01", "on_call", then)]
    ended = changes[0].ended_call
    assert ended is not None and ended.citizen_number == CITIZEN
    assert ended.started_at == started_at and ended.ended_at == changes[0].at
    assert ended.linkedid == "1796293628.27" and ended.queue == "hotline"
    seat = board.seat("01")
    assert seat is not None and seat.call is None  # the seat itself has no current call


def test_the_finished_call_rides_on_the_change_into_wrap_up_too() -> None:
    _, run = replay("08", SEAT_01)
    run.through("AgentComplete")
    (change,) = run.through("DeviceStateChange", Device="PJSIP/1001", State="NOT_INUSE")
    assert change.new is SeatState.WRAP_UP
    assert change.ended_call is not None and change.ended_call.ended_at == change.at


# ----- 06 / 07: three-way calls ----------------------------------------------------------------


def test_three_way_by_redirect_into_a_confbridge() -> None:
    board, run = replay("06", SEAT_01)
    run.through("AgentCalled")
    assert state_of(board, "01") is SeatState.RINGING
    run.through("AgentConnect")
    seat = board.seat("01")
    assert seat is not None and seat.state is SeatState.ON_CALL and seat.call is not None
    assert seat.call.three_way is False
    assert seat.call.citizen_number == CITIZEN

    run.through("ConfbridgeJoin", Channel=channel_named(run.messages, "PJSIP/1001-"))
    run.through("ConfbridgeJoin", Channel=channel_named(run.messages, "Local/2001@hotline-expert-"))
    seat = board.seat("01")
    assert seat is not None and seat.state is SeatState.ON_CALL and seat.call is not None
    assert seat.call.three_way is True
    assert seat.call.citizen_number == CITIZEN

    changes = run.through("DeviceStateChange", Device="PJSIP/1001", State="NOT_INUSE")
    assert moves(changes) == [("01", "on_call", "wrap_up")]
    seat = board.seat("01")
    assert seat is not None and seat.call is not None and seat.call.three_way is True


def test_three_way_by_bridge_add() -> None:
    board, run = replay("07", SEAT_01)
    run.through("BridgeEnter", Channel=citizen_bridged(run.messages))
    seat = board.seat("01")
    assert seat is not None and seat.state is SeatState.ON_CALL and seat.call is not None
    assert seat.call.three_way is False

    run.through("BridgeEnter", Channel=channel_named(run.messages, "Local/s@hotline-bridge-join-")[:-1] + "2")
    seat = board.seat("01")
    assert seat is not None and seat.call is not None and seat.call.three_way is True

    # The citizen hangs up first; operator and expert still talk: still on a call.
    run.through("AgentComplete")
    assert state_of(board, "01") is SeatState.ON_CALL
    changes = run.through("DeviceStateChange", Device="PJSIP/1001", State="NOT_INUSE")
    assert moves(changes) == [("01", "on_call", "wrap_up")]


def test_no_blip_to_available_between_queue_leave_and_agent_connect() -> None:
    # QueueCallerLeave arrives before AgentConnect while the seat's channel is already up.
    _, run = replay("07", SEAT_01)
    changes = run.through("AgentConnect")
    assert moves(changes) == [
        ("01", "offline", "logged_out"),
        ("01", "logged_out", "available"),
        ("01", "available", "ringing"),
        ("01", "ringing", "on_call"),
    ]


# ----- 10: a direct call to a phone that is not a queue member ---------------------------------


def test_direct_call_to_a_registered_non_member() -> None:
    board, run = replay("10", SEAT_02)
    assert moves(run.through("ContactStatus")) == [("02", "offline", "logged_out")]
    run.through("PeerStatus")
    assert state_of(board, "02") is SeatState.LOGGED_OUT

    # The phone rings (its device state says BUSY: the rendered endpoint has
    # device_state_busy_at=1, so the ringing channel is what tells).
    phone = channel_named(run.messages, "PJSIP/1002-")
    assert moves(run.through("Newstate", Channel=phone, ChannelStateDesc="Ringing")) == [
        ("02", "logged_out", "ringing")]
    assert run.through("DeviceStateChange", Device="PJSIP/1002", State="BUSY") == []
    seat = board.seat("02")
    assert seat is not None and seat.call is not None
    assert seat.call.citizen_number == "13900002222"
    assert seat.call.queue is None and seat.call.queue_wait_seconds is None

    changes = run.through("Newstate", ChannelStateDesc="Up")
    assert moves(changes) == [("02", "ringing", "on_call")]
    seat = board.seat("02")
    assert seat is not None and seat.call is not None and seat.call.started_at == run.now

    # No wrap-up for someone who is not taking queue calls; then the phone unregisters.
    assert moves(run.rest()) == [("02", "on_call", "logged_out"), ("02", "logged_out", "offline")]


# ----- registration ----------------------------------------------------------------------------


def test_contact_removed_or_unreachable_takes_the_seat_offline() -> None:
    board, run = replay("10", SEAT_02)
    run.through("PeerStatus")
    # Hand-built (the recordings' unregistration says Removed too, but only at the very end).
    removed = {**run.messages[find_event(run.messages, "ContactStatus")], "ContactStatus": "Removed"}
    assert moves(board.apply(removed, run.advance(1))) == [("02", "logged_out", "offline")]
    assert moves(board.apply({**removed, "ContactStatus": "Created"}, run.advance(1))) == [
        ("02", "offline", "logged_out")
    ]
    assert moves(board.apply({**removed, "ContactStatus": "Unreachable"}, run.advance(1))) == [
        ("02", "logged_out", "offline")
    ]


def test_unavailable_device_takes_a_member_offline_and_back() -> None:
    board, run = replay("08", SEAT_01)
    run.through("QueueMemberAdded")
    # Hand-built: the phone unregisters while logged in to the queue.
    gone = {"Event": "DeviceStateChange", "Device": "PJSIP/1001", "State": "UNAVAILABLE"}
    assert moves(board.apply(gone, run.advance(1))) == [("01", "available", "offline")]
    back = {**gone, "State": "NOT_INUSE"}
    assert moves(board.apply(back, run.advance(1))) == [("01", "offline", "available")]


def test_after_an_asterisk_restart_a_listed_contact_is_not_reachable_until_qualified() -> None:
    """Issue 13: seats showed available ~20 s while Asterisk listed them Unavailable. The
    values are what Asterisk 22 answered right after a restart (the registrar's stored contact
    is NonQualified, the device UNAVAILABLE, the member Status 5) and after the next qualify."""
    board = HallPicture(SeatDirectory([SEAT_01]), WRAPUP)
    now = CAPTURE_START
    board.begin_snapshot()
    for event in (
        {"Event": "ContactList", "Endpoint": "1001", "Aor": "1001", "Status": "NonQualified",
         "Uri": "sip:1001@127.0.0.1:46593", "RoundtripUsec": "N/A"},
        {"Event": "ContactListComplete", "EventList": "Complete"},
        {"Event": "DeviceStateChange", "Device": "PJSIP/1001", "State": "UNAVAILABLE"},
        {"Event": "QueueParams", "Queue": "hotline"},
        {"Event": "QueueMember", "Queue": "hotline", "Name": "01", "Location": "Local/01@hotline-seat",
         "StateInterface": "PJSIP/1001", "Status": "5", "Paused": "0", "InCall": "0"},
    ):
        board.apply(event, now)
    assert board.end_snapshot(now) == []  # offline it was, offline it stays
    seat = board.seat("01")
    assert seat is not None and seat.state is SeatState.OFFLINE and seat.registered is False
    assert seat.queues == ("hotline",)
    qualified = {"Event": "ContactStatus", "EndpointName": "1001", "AOR": "1001",
                 "URI": "sip:1001@127.0.0.1:46593", "ContactStatus": "Reachable"}
    assert board.apply(qualified, now + timedelta(seconds=27)) == []  # the device has not said yet
    device = {"Event": "DeviceStateChange", "Device": "PJSIP/1001", "State": "NOT_INUSE"}
    assert moves(board.apply(device, now + timedelta(seconds=27))) == [("01", "offline", "available")]


# ----- resync snapshots ------------------------------------------------------------------------


def test_queue_status_snapshot_replaces_membership() -> None:
    board, run = replay("05", SEAT_02, SEAT_03)
    listing_start = find_event(run.messages, "QueueParams")
    run.through_index(listing_start - 1)
    listing_end = find_event(run.messages, "QueueStatusComplete", listing_start)
    listing = [
        message
        for message in run.messages[listing_start : listing_end + 1]
        if message.get("Name") != "02"  # the resync no longer lists seat 02
    ]
    board.tick(run.advance(WRAPUP))  # let seat 02's wrap-up (after its direct call) run out
    assert state_of(board, "02") is SeatState.AVAILABLE
    board.begin_snapshot()
    for message in listing:
        assert board.apply(message, run.advance(1)) == []
    changes = board.end_snapshot(run.advance(1))
    assert moves(changes) == [("02", "available", "logged_out")]
    seat3 = board.seat("03")
    assert seat3 is not None and seat3.queues == ("hotline",)


def test_empty_queue_status_from_login_removes_members() -> None:
    board, run = replay("08", SEAT_01)
    run.through("QueueMemberAdded")
    login = load_transcript("01")  # QueueStatus listing the queue hotline, no members
    board.begin_snapshot()
    for message in login:
        board.apply(message, run.advance(1))
    assert moves(board.end_snapshot(run.advance(1))) == [("01", "available", "logged_out")]


def test_contact_listing_snapshot_unregisters_unlisted_seats() -> None:
    board, run = replay("08", SEAT_01, SEAT_02)
    run.through("QueueMemberAdded")
    board.apply({"Event": "PeerStatus", "Peer": "PJSIP/1002", "PeerStatus": "Reachable"}, run.advance(1))
    assert state_of(board, "02") is SeatState.LOGGED_OUT
    # Hand-built PJSIPShowContacts answer (no recording has one): only 1001 is listed.
    board.begin_snapshot()
    board.apply(
        {
            "Event": "ContactList",
            "ObjectType": "contact",
            "Endpoint": "1001",
            "Aor": "1001",
            "Uri": "sip:1001@127.0.0.1:5310",
            "Status": "NonQualified",
        },
        run.advance(1),
    )
    board.apply({"Event": "ContactListComplete", "EventList": "Complete"}, run.advance(1))
    assert moves(board.end_snapshot(run.advance(1))) == [("02", "logged_out", "offline")]
    assert state_of(board, "01") is SeatState.AVAILABLE


def test_a_snapshot_whose_lists_never_completed_keeps_the_facts() -> None:
    board, run = replay("08", SEAT_01)
    run.through("QueueMemberAdded")
    board.begin_snapshot()
    assert board.end_snapshot(run.advance(1)) == []
    assert state_of(board, "01") is SeatState.AVAILABLE


def test_channel_listing_ends_a_call_missed_while_disconnected() -> None:
    board, run = replay("08", SEAT_01)
    run.through("BridgeEnter", Channel=citizen_bridged(run.messages))
    assert state_of(board, "01") is SeatState.ON_CALL
    # Reconnected after the call ended: the channel list is empty (01's real answer) and the
    # phone is idle (hand-built DeviceStateList item).
    board.begin_snapshot()
    for message in load_transcript("01"):
        if message.get("Event", "").startswith("CoreShowChannels"):
            board.apply(message, run.advance(1))
    board.apply(
        {"Event": "DeviceStateChange", "Device": "PJSIP/1001", "State": "NOT_INUSE"}, run.advance(1)
    )
    resynced_at = run.advance(1)
    assert moves(board.end_snapshot(resynced_at)) == [("01", "on_call", "wrap_up")]
    assert board.calls.channels() == ()
    assert moves(board.tick(resynced_at + timedelta(seconds=WRAPUP))) == [("01", "wrap_up", "available")]


def _resync_after_the_call(board: HallPicture, run: Replay[SeatChange], last_call: int,
                           away_s: int) -> list[SeatChange]:
    """The link comes back `away_s` after the call started; Asterisk's answers say the seat is
    idle, its member's LastCall is `last_call` (hand-built QueueMember), no channel is left."""
    board.begin_snapshot()
    board.apply({"Event": "QueueParams", "Queue": "hotline"}, run.now)
    board.apply({"Event": "QueueMember", "Queue": "hotline", "Name": "01",
                 "Location": "Local/01@hotline-seat", "StateInterface": "PJSIP/1001", "Status": "1",
                 "Paused": "0", "InCall": "0", "LastCall": str(last_call)}, run.now)
    for message in load_transcript("01"):
        if message.get("Event", "").startswith("CoreShowChannels"):
            board.apply(message, run.now)
    board.apply({"Event": "DeviceStateChange", "Device": "PJSIP/1001", "State": "NOT_INUSE"}, run.now)
    return board.end_snapshot(run.advance(away_s))


@pytest.mark.parametrize(("away_s", "then"), [(40, "available"), (20, "wrap_up")])
def test_a_call_that_ended_during_an_outage_ends_when_asterisk_says(away_s: int, then: str) -> None:
    """Issue 13: the resync stored the reconnect time as the call's end and began a fresh wrap-up."""
    board, run = replay("08", SEAT_01)
    run.through("AgentConnect")
    started_at = run.now
    last_call = int(started_at.timestamp()) + 5
    (change,) = _resync_after_the_call(board, run, last_call, away_s)
    assert (change.old, change.new) == (SeatState.ON_CALL, SeatState(then))
    assert change.ended_call is not None
    assert change.ended_call.ended_at == datetime.fromtimestamp(last_call, tz=UTC)
    seat = board.seat("01")
    assert seat is not None
    if then == "wrap_up":
        assert seat.wrapup_until == datetime.fromtimestamp(last_call + WRAPUP, tz=UTC)


def test_nothing_is_derived_from_a_half_read_resync_not_even_by_the_clock() -> None:
    board, run = replay("08", SEAT_01)
    run.through("AgentComplete")
    (change,) = run.through("DeviceStateChange", Device="PJSIP/1001", State="NOT_INUSE")
    assert change.new is SeatState.WRAP_UP
    board.begin_snapshot()
    assert board.tick(change.at + timedelta(seconds=WRAPUP + 1)) == []
    assert moves(board.end_snapshot(change.at + timedelta(seconds=WRAPUP + 2))) == [
        ("01", "wrap_up", "available")]


def test_an_older_last_call_is_not_taken_for_this_calls_end() -> None:
    board, run = replay("08", SEAT_01)
    run.through("AgentConnect")
    (change,) = _resync_after_the_call(board, run, int(run.now.timestamp()) - 60, 40)
    assert change.new is SeatState.WRAP_UP
    assert change.ended_call is not None and change.ended_call.ended_at == run.now


# ----- robustness ------------------------------------------------------------------------------

GARBAGE: list[Mapping[str, str]] = [
    {},
    {"Event": ""},
    {"Response": "Success", "ActionID": "a1"},
    {"Event": "NoSuchEvent", "Foo": "bar"},
    {"Event": "QueueMemberAdded"},
    {"Event": "QueueMemberPause", "MemberName": "seat01", "Queue": "hotline", "Paused": "maybe"},
    {"Event": "QueueMemberPause", "MemberName": "seat01", "Queue": "hotline", "LastPause": "soon"},
    {"Event": "QueueMemberStatus", "MemberName": "seat01", "Queue": "hotline", "Status": "99"},
    {"Event": "AgentConnect", "MemberName": "seat01", "HoldTime": "abc"},
    {"Event": "AgentComplete", "MemberName": "nobody", "TalkTime": "-"},
    {"Event": "DeviceStateChange", "Device": "PJSIP/1001", "State": "WEIRD"},
    {"Event": "DeviceStateChange"},
    {"Event": "ContactStatus", "EndpointName": "seat01", "ContactStatus": "Sideways"},
    {"Event": "Hangup"},
    {"Event": "BridgeEnter", "BridgeUniqueid": "b"},
    {"Event": "Newstate", "Uniqueid": "1.1"},
    {"Event": "CoreShowChannel", "Uniqueid": "1.2", "Channel": "PJSIP/seat01-00000009", "Duration": "x"},
]


def test_garbage_is_ignored() -> None:
    board = HallPicture(SeatDirectory([SEAT_01]), WRAPUP)
    for event in GARBAGE:
        assert board.apply(event, CAPTURE_START) == []
    assert state_of(board, "01") is SeatState.OFFLINE


def mangled(message: Mapping[str, str]) -> list[dict[str, str]]:
    """Each header missing in turn, then every value nonsense."""
    variants = [
        {k: v for k, v in message.items() if k != dropped} for dropped in message if dropped != "Event"
    ]
    variants.append({k: (v if k == "Event" else "\x00garbage;1") for k, v in message.items()})
    return variants


def test_every_captured_event_survives_mangling() -> None:
    board = HallPicture(SeatDirectory([SEAT_01, SEAT_02, SEAT_03]), WRAPUP)
    now = CAPTURE_START
    for path in sorted(transcripts_dir().glob("*.txt")):
        for message in load_transcript(path.name):
            if message.get("Event") in {"VarSet", "Newexten", "TestEvent", "RTCPSent", "RTCPReceived"}:
                continue
            for variant in [*mangled(message), message]:
                now += timedelta(milliseconds=10)
                board.apply(variant, now)
    assert len(board.seats()) == 3


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("NOT_INUSE", DeviceState.NOT_INUSE),
        ("5", DeviceState.UNAVAILABLE),
        ("Ring+Inuse", DeviceState.RINGINUSE),
        ("Not in use", DeviceState.NOT_INUSE),
        ("On Hold", DeviceState.ONHOLD),
        ("42", None),
        (None, None),
    ],
)
def test_device_state_spellings(text: str | None, state: DeviceState | None) -> None:
    assert parse_device_state(text) is state

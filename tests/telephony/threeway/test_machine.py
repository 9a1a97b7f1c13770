"""The three-way session's state machine, fed AMI events by hand (no PBX)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from telephony.threeway import machine
from telephony.threeway.errors import RequestRefused
from telephony.threeway.machine import Dial, HangUp, MoveIntoRoom
from telephony.threeway.session import Party, PartyState, Role, SessionState, ThreeWaySession

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
ROOM = "17958131250001"


def session(*experts: PartyState) -> ThreeWaySession:
    parties = [Party(Role.EXPERT, f"e{i}", state, target=f"200{i}", uniqueid=f"tw-{i}")
               for i, state in enumerate(experts, start=1)]
    return ThreeWaySession(
        session_id=ROOM, room=ROOM, seat_id="07", linkedid="1.1", department="住建",
        citizen=Party(Role.CITIZEN, "王五", PartyState.TALKING, "PJSIP/citizen1-1", "1.1"),
        operator=Party(Role.OPERATOR, "07", PartyState.TALKING, "PJSIP/1007-2", "1.2"),
        experts=parties, ring_seconds=5, started_at=NOW)


def join(uniqueid: str) -> dict[str, str]:
    return {"Event": "ConfbridgeJoin", "Conference": ROOM, "Uniqueid": uniqueid}


def leave(uniqueid: str) -> dict[str, str]:
    return {"Event": "ConfbridgeLeave", "Conference": ROOM, "Uniqueid": uniqueid}


def in_conference() -> ThreeWaySession:
    s = session(PartyState.WAITING)
    machine.dial_next(s, NOW)
    assert machine.apply(s, join("tw-1"), NOW) == [MoveIntoRoom()]
    machine.apply(s, join("1.1"), NOW)
    machine.apply(s, join("1.2"), NOW)
    assert s.state is SessionState.CONFERENCE
    return s


def test_off_duty_expert_is_skipped_and_no_answer_moves_on() -> None:
    s = session(PartyState.SKIPPED, PartyState.WAITING, PartyState.WAITING)
    commands = machine.dial_next(s, NOW)
    assert commands == [Dial(s.experts[1])] and s.experts[1].state is PartyState.RINGING
    nxt = machine.apply(s, {"Event": "Hangup", "Uniqueid": "tw-2", "Cause": "19"}, NOW)
    assert s.experts[1].state is PartyState.NO_ANSWER and nxt == [Dial(s.experts[2])]
    nxt = machine.apply(s, {"Event": "Hangup", "Uniqueid": "tw-3", "Cause": "17"}, NOW)
    assert nxt == [] and s.experts[2].state is PartyState.BUSY
    assert s.state is SessionState.FAILED and "e1: skipped" in (s.reason or "")
    assert s.citizen.state is PartyState.TALKING and s.operator.state is PartyState.TALKING


def test_answer_moves_citizen_and_operator_into_the_room() -> None:
    s = in_conference()
    assert [p.state for p in s.parties] == [PartyState.IN_CONFERENCE] * 3
    assert s.answered_at == NOW


def test_events_of_other_rooms_and_channels_change_nothing() -> None:
    s = session(PartyState.WAITING)
    machine.dial_next(s, NOW)
    assert machine.apply(s, {"Event": "ConfbridgeJoin", "Conference": "9", "Uniqueid": "tw-1"},
                         NOW) == []
    assert machine.apply(s, {"Event": "Hangup", "Uniqueid": "other"}, NOW) == []
    assert s.state is SessionState.DIALLING


def test_citizen_hanging_up_while_dialling_cancels_the_expert_leg() -> None:
    s = session(PartyState.WAITING, PartyState.WAITING)
    machine.dial_next(s, NOW)
    commands = machine.apply(s, {"Event": "Hangup", "Uniqueid": "1.1"}, NOW)
    assert commands == [HangUp("tw-1")] and s.state is SessionState.CANCELLED
    assert machine.apply(s, {"Event": "Hangup", "Uniqueid": "tw-1", "Cause": "16"}, NOW) == []
    assert s.experts[1].state is PartyState.WAITING


def test_operator_leaves_and_the_others_keep_talking() -> None:
    s = in_conference()
    assert machine.operator_leaves(s, NOW) == [HangUp("1.2")]
    assert machine.apply(s, leave("1.2"), NOW) == []
    assert s.state is SessionState.CONFERENCE and s.operator.state is PartyState.LEFT
    assert machine.apply(s, leave("1.1"), NOW) == [HangUp("tw-1")]
    assert s.state is SessionState.ENDED


def test_drop_expert_keeps_citizen_and_operator() -> None:
    s = in_conference()
    assert machine.drop_expert(s, NOW) == [HangUp("tw-1")]
    machine.apply(s, leave("tw-1"), NOW)
    assert s.experts[0].state is PartyState.DROPPED and s.state is SessionState.CONFERENCE
    with pytest.raises(RequestRefused):
        machine.operator_leaves(s, NOW)


def test_cancel_only_while_dialling_and_end_hangs_up_everybody() -> None:
    s = session(PartyState.WAITING)
    machine.dial_next(s, NOW)
    assert machine.cancel(s, NOW) == [HangUp("tw-1")] and s.state is SessionState.CANCELLED
    with pytest.raises(RequestRefused):
        machine.cancel(s, NOW)
    s = in_conference()
    assert sorted(c.channel for c in machine.end_for_all(s, NOW)
                  if isinstance(c, HangUp)) == ["1.1", "1.2", "tw-1"]
    assert s.state is SessionState.ENDED


def test_ring_time_excludes_the_whisper_and_gives_up_on_a_silent_phone() -> None:
    s = session(PartyState.WAITING, PartyState.WAITING)
    machine.dial_next(s, NOW)
    commands = machine.ring_timeout(s, "tw-1", NOW)
    assert commands == [HangUp("tw-1"), Dial(s.experts[1])]
    assert s.experts[0].state is PartyState.NO_ANSWER
    # The late OriginateResponse of the abandoned leg changes nothing.
    late = {"Event": "OriginateResponse", "Uniqueid": "tw-1", "Response": "Failure", "Reason": "0"}
    assert machine.apply(s, late, NOW) == [] and s.experts[0].state is PartyState.NO_ANSWER
    # The second expert's phone answered (Newstate Up, Linkedid = our Local channel): the
    # whisper plays past the ring time and nobody gives up on them.
    up = {"Event": "Newstate", "ChannelState": "6", "Channel": "PJSIP/2002-1",
          "Uniqueid": "9.9", "Linkedid": "tw-2"}
    assert machine.apply(s, up, NOW) == []
    assert machine.ring_timeout(s, "tw-2", NOW) == []
    assert s.experts[1].state is PartyState.RINGING


def test_the_seat_local_channel_going_away_is_not_the_operator_leaving() -> None:
    s = session(PartyState.WAITING)
    s.aliases["1.9"] = "1.2"  # Local/07@hotline-seat;1, optimised away after the announcement
    machine.dial_next(s, NOW)
    assert machine.apply(s, {"Event": "Hangup", "Uniqueid": "1.9", "Cause": "16"}, NOW) == []
    assert s.state is SessionState.DIALLING and s.operator.state is PartyState.TALKING
    machine.apply(s, join("tw-1"), NOW)
    machine.apply(s, join("1.1"), NOW)
    machine.apply(s, join("1.9"), NOW)  # redirected before the optimisation: stands for 07
    assert s.state is SessionState.CONFERENCE


def test_who_hung_up_is_the_one_whose_phone_asked_first() -> None:
    s = session(PartyState.WAITING)
    machine.dial_next(s, NOW)
    commands = machine.apply(s, {"Event": "HangupRequest", "Uniqueid": "1.1"}, NOW)
    assert commands == [HangUp("tw-1")] and s.reason == "the citizen hung up"
    assert machine.apply(s, {"Event": "Hangup", "Uniqueid": "1.2"}, NOW) == []
    assert s.reason == "the citizen hung up"

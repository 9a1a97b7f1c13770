"""Taking a session up again after the service restarted or AMI reconnected: what its room and
the live channels show now decides its state (pure; no PBX)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from hotline.db.base import Base
from telephony.threeway import machine
from telephony.threeway.machine import Dial, HangUp, MoveIntoRoom
from telephony.threeway.session import PartyState, SessionState, ThreeWaySession
from telephony.threeway.store import load_active, save_session
from tests.telephony.threeway.test_machine import NOW, in_conference, session

LATER = NOW + timedelta(minutes=3)
CITIZEN, OPERATOR, EXPERT = "1.1", "1.2", "tw-1"
SEAT_LOCAL = "1.7"  # the seat's Local channel, unknown to the session


def alive(*uniqueids: str) -> Callable[[str], bool]:
    return lambda uniqueid: uniqueid in uniqueids


def dialling(*experts: PartyState) -> ThreeWaySession:
    s = session(*experts)
    machine.dial_next(s, NOW)
    return s


def test_a_conference_still_in_its_room_resumes_and_the_operator_can_still_leave() -> None:
    s = in_conference()
    assert machine.resume(s, {CITIZEN, SEAT_LOCAL, EXPERT}, alive(CITIZEN, OPERATOR, EXPERT), LATER) == []
    assert s.state is SessionState.CONFERENCE
    assert [p.state for p in s.parties] == [PartyState.IN_CONFERENCE] * 3
    assert s.aliases[SEAT_LOCAL] == OPERATOR  # its later ConfbridgeLeave is the operator's
    assert machine.operator_leaves(s, LATER) == [HangUp(OPERATOR)]
    machine.apply(s, {"Event": "ConfbridgeLeave", "Conference": s.room, "Uniqueid": SEAT_LOCAL}, LATER)
    assert s.operator.state is PartyState.LEFT and s.state is SessionState.CONFERENCE


def test_a_party_that_left_during_the_gap_is_marked_left_at_resume() -> None:
    s = in_conference()
    assert machine.resume(s, {CITIZEN, EXPERT}, alive(CITIZEN, EXPERT), LATER) == []
    assert s.operator.state is PartyState.LEFT and s.operator.left_at == LATER
    assert s.state is SessionState.CONFERENCE


def test_one_left_alone_in_the_room_is_hung_up_and_the_session_ends() -> None:
    s = in_conference()
    assert machine.resume(s, {CITIZEN}, alive(CITIZEN), LATER) == [HangUp(CITIZEN)]
    assert s.state is SessionState.ENDED and "away" in (s.reason or "")
    assert s.ended_at == LATER


def test_an_empty_room_means_the_conference_ended() -> None:
    s = in_conference()
    assert machine.resume(s, set(), alive(), LATER) == []
    assert s.state is SessionState.ENDED
    assert all(p.state is PartyState.LEFT for p in s.parties)


def test_a_ringing_expert_still_ringing_is_left_to_ring() -> None:
    s = dialling(PartyState.WAITING, PartyState.WAITING)
    assert machine.resume(s, set(), alive(CITIZEN, OPERATOR, EXPERT), LATER) == []
    assert s.state is SessionState.DIALLING and s.experts[0].state is PartyState.RINGING


def test_a_ring_that_ended_in_the_gap_moves_on_to_the_next_expert() -> None:
    s = dialling(PartyState.WAITING, PartyState.WAITING)
    commands = machine.resume(s, set(), alive(CITIZEN, OPERATOR), LATER)
    assert commands == [Dial(s.experts[1])]
    assert s.experts[0].state is PartyState.NO_ANSWER and "away" in (s.experts[0].reason or "")


def test_the_citizen_gone_while_dialling_cancels_and_hangs_the_expert_up() -> None:
    s = dialling(PartyState.WAITING, PartyState.WAITING)
    assert machine.resume(s, set(), alive(OPERATOR, EXPERT), LATER) == [HangUp(EXPERT)]
    assert s.state is SessionState.CANCELLED
    assert [p.state for p in s.experts] == [PartyState.CANCELLED, PartyState.CANCELLED]


def test_an_expert_waiting_alone_in_the_room_brings_citizen_and_operator_in() -> None:
    s = dialling(PartyState.WAITING)
    assert machine.resume(s, {EXPERT}, alive(CITIZEN, OPERATOR, EXPERT), LATER) == [MoveIntoRoom()]
    assert s.state is SessionState.JOINING and s.experts[0].state is PartyState.IN_CONFERENCE
    machine.apply(s, {"Event": "ConfbridgeJoin", "Conference": s.room, "Uniqueid": CITIZEN}, LATER)
    machine.apply(s, {"Event": "ConfbridgeJoin", "Conference": s.room, "Uniqueid": OPERATOR}, LATER)
    assert s.state is SessionState.CONFERENCE


def test_an_expert_alone_after_citizen_and_operator_hung_up_is_hung_up() -> None:
    s = dialling(PartyState.WAITING)
    assert machine.resume(s, {EXPERT}, alive(EXPERT), LATER) == [HangUp(EXPERT)]
    assert s.state is SessionState.ENDED


def test_a_finished_session_is_left_alone() -> None:
    s = in_conference()
    machine.end_for_all(s, NOW)
    before = (s.state, s.reason, [p.state for p in s.parties])
    assert machine.resume(s, {CITIZEN, EXPERT}, alive(CITIZEN, EXPERT), LATER) == []
    assert (s.state, s.reason, [p.state for p in s.parties]) == before


def test_the_stored_row_gives_back_the_session_with_its_channels(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'tw.db'}")
    Base.metadata.create_all(engine)
    sessions = sessionmaker(engine)
    live, over = in_conference(), in_conference()
    over.session_id = over.room = "17958131250002"
    machine.end_for_all(over, NOW)
    save_session(sessions, live)
    save_session(sessions, over)

    loaded = load_active(sessions, ring_seconds=9, now=LATER)
    assert [s.session_id for s in loaded] == [live.session_id]
    back = loaded[0]
    assert back.ring_seconds == 9 and back.room == live.room and back.state is SessionState.CONFERENCE
    assert [(p.role, p.name, p.state, p.channel, p.uniqueid) for p in back.parties] == \
        [(p.role, p.name, p.state, p.channel, p.uniqueid) for p in live.parties]
    assert (back.started_at, back.answered_at) == (live.started_at, live.answered_at)

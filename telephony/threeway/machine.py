"""The session's pure state machine: an AMI event (or an operator's request) in, commands out.

No I/O here: `apply` folds one event into the session and returns what the service must do
(dial the next expert, move citizen and operator into the room, hang a channel up).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from telephony.threeway.errors import AlreadyOver, NoExpertInCall, NotDialling, NotInConference
from telephony.threeway.session import (
    FINAL_STATES,
    Party,
    PartyState,
    Role,
    SessionState,
    ThreeWaySession,
)

# Q.850 causes on the expert's leg, and Asterisk's OriginateResponse reasons.
CAUSE_OUTCOMES: Mapping[str, PartyState] = {
    "17": PartyState.BUSY, "18": PartyState.NO_ANSWER, "19": PartyState.NO_ANSWER,
    "16": PartyState.NO_ANSWER,
}
ORIGINATE_OUTCOMES: Mapping[str, PartyState] = {
    "3": PartyState.NO_ANSWER, "5": PartyState.BUSY, "1": PartyState.FAILED,
    "8": PartyState.FAILED, "0": PartyState.FAILED,
}
ORIGINATE_REASON_TEXT: Mapping[str, str] = {
    "3": "rang without answer", "5": "busy", "1": "rejected or hung up", "8": "congestion",
    "0": "could not be reached",
}
DIAL_OUTCOMES = frozenset({PartyState.NO_ANSWER, PartyState.BUSY, PartyState.FAILED,
                           PartyState.SKIPPED, PartyState.CANCELLED})
MIN_PARTIES = 2
ALL_THREE = 3
CHANNEL_UP = "6"


@dataclass(frozen=True, slots=True)
class Dial:
    """Originate this expert into the session's room."""

    expert: Party


@dataclass(frozen=True, slots=True)
class MoveIntoRoom:
    """Redirect citizen and operator from their bridge into the room."""


@dataclass(frozen=True, slots=True)
class HangUp:
    """Hang up a channel (by name or Uniqueid)."""

    channel: str


Command = Dial | MoveIntoRoom | HangUp


def _set_state(session: ThreeWaySession, state: SessionState, now: datetime,
               reason: str | None = None) -> None:
    session.state = state
    session.state_since = now
    if reason is not None:
        session.reason = reason
    if state in FINAL_STATES:
        session.ended_at = now


def dial_next(session: ThreeWaySession, now: datetime) -> list[Command]:
    """Ring the next waiting expert, or fail the session saying why each one did not come."""
    expert = next((p for p in session.experts if p.state is PartyState.WAITING), None)
    if expert is None:
        why = "; ".join(f"{p.name}: {p.reason or p.state.value}" for p in session.experts)
        _set_state(session, SessionState.FAILED, now, f"no expert answered ({why})")
        return []
    expert.state = PartyState.RINGING
    expert.dialled_at = now
    return [Dial(expert)]


def _in_room(session: ThreeWaySession) -> list[Party]:
    return [p for p in session.parties if p.state is PartyState.IN_CONFERENCE]


def apply(session: ThreeWaySession, event: Mapping[str, str], now: datetime) -> list[Command]:
    """Fold one AMI event into the session; events about other channels change nothing."""
    if not session.active:
        return _late_event(session, event)
    name = event.get("Event", "")
    if name in ("ConfbridgeJoin", "ConfbridgeLeave", "ConfbridgeEnd") \
            and event.get("Conference") != session.room:
        return []
    uniqueid = event.get("Uniqueid")
    if name == "Newstate" and event.get("ChannelState") == CHANNEL_UP:
        _picked_up(session, event)
        return []
    party = session.party(uniqueid)
    if name in ("Hangup", "HangupRequest") and uniqueid in session.aliases:
        return []  # a Local channel standing for the party went away; the party did not
    if name == "Newchannel" and party is not None and uniqueid not in session.aliases:
        party.channel = event.get("Channel") or party.channel
        return []
    if name == "ConfbridgeJoin" and party is not None:
        return _joined(session, party, now)
    if name == "ConfbridgeLeave" and party is not None:
        return _left(session, party, now)
    if name == "ConfbridgeEnd":
        _set_state(session, SessionState.ENDED, now, session.reason or "conference ended")
        return []
    if name == "OriginateResponse" and party is not None and party.role is Role.EXPERT:
        if event.get("Response") == "Success" or party.state is not PartyState.RINGING:
            return []
        code = event.get("Reason", "0")
        return _expert_failed(session, party, ORIGINATE_OUTCOMES.get(code, PartyState.FAILED),
                              ORIGINATE_REASON_TEXT.get(code, "could not be reached"), now)
    if name == "HangupRequest" and party is not None and party.role is not Role.EXPERT \
            and party.state is PartyState.TALKING:
        # The phone itself hung up (BYE). Its Hangup event may come after the other talker's,
        # who was only dropped from the dissolving bridge: this one says who really left.
        return _hung_up(session, party, event, now)
    if name == "Hangup" and party is not None:
        return _hung_up(session, party, event, now)
    return []


def _picked_up(session: ThreeWaySession, event: Mapping[str, str]) -> None:
    """The phone of a ringing expert answered: the channel Dial created in hotline-expert
    (Linkedid is our Local channel's Uniqueid). The whisper plays before the expert joins."""
    linkedid = event.get("Linkedid")
    party = session.party(linkedid)
    if party is not None and party.role is Role.EXPERT and party.state is PartyState.RINGING \
            and not event.get("Channel", "").startswith("Local/"):
        session.picked_up.add(party.uniqueid or "")


def ring_timeout(session: ThreeWaySession, uniqueid: str, now: datetime) -> list[Command]:
    """The expert's ring time is over: if their phone has not answered, give up on them
    (hang their leg up) and ring the next one. The whisper is not counted as ringing."""
    party = session.party(uniqueid)
    if not session.active or party is None or party.state is not PartyState.RINGING \
            or uniqueid in session.picked_up:
        return []
    commands: list[Command] = [HangUp(uniqueid)]
    return commands + _expert_failed(session, party, PartyState.NO_ANSWER,
                                     ORIGINATE_REASON_TEXT["3"], now)


def _late_event(session: ThreeWaySession, event: Mapping[str, str]) -> list[Command]:
    """After the end, an OriginateResponse may still name why the last expert failed."""
    party = session.party(event.get("Uniqueid"))
    if event.get("Event") == "OriginateResponse" and party is not None \
            and event.get("Response") != "Success" and party.reason is None:
        party.reason = ORIGINATE_REASON_TEXT.get(event.get("Reason", "0"))
    return []


def _joined(session: ThreeWaySession, party: Party, now: datetime) -> list[Command]:
    party.state = PartyState.IN_CONFERENCE
    party.joined_at = now
    commands: list[Command] = []
    if party.role is Role.EXPERT and session.state is SessionState.DIALLING:
        session.answered_at = now
        _set_state(session, SessionState.JOINING, now)
        commands.append(MoveIntoRoom())
    if session.state is SessionState.JOINING and len(_in_room(session)) >= ALL_THREE:
        _set_state(session, SessionState.CONFERENCE, now)
    return commands


def _left(session: ThreeWaySession, party: Party, now: datetime) -> list[Command]:
    asked = party.uniqueid in session.leaving
    party.state = PartyState.DROPPED if asked and party.role is Role.EXPERT else PartyState.LEFT
    party.left_at = now
    remaining = _in_room(session)
    if session.state is SessionState.CONFERENCE and len(remaining) < MIN_PARTIES:
        _set_state(session, SessionState.ENDED, now,
                   session.reason or f"{party.role.value} left; the room emptied")
        return [HangUp(p.uniqueid or "") for p in remaining if p.uniqueid]
    return []


def _hung_up(session: ThreeWaySession, party: Party, event: Mapping[str, str],
             now: datetime) -> list[Command]:
    if party.role is Role.EXPERT:
        if party.state is PartyState.RINGING:
            cause = event.get("Cause", "")
            outcome = CAUSE_OUTCOMES.get(cause, PartyState.NO_ANSWER)
            return _expert_failed(session, party, outcome, event.get("Cause-txt") or None, now)
        if party.state is PartyState.IN_CONFERENCE:
            return _left(session, party, now)
        return []
    if party.state is PartyState.IN_CONFERENCE:
        return _left(session, party, now)
    if party.state is not PartyState.TALKING:
        return []
    party.state = PartyState.LEFT
    party.left_at = now
    commands: list[Command] = []
    for expert in session.experts:
        if expert.state in (PartyState.RINGING, PartyState.IN_CONFERENCE):
            expert.state = PartyState.CANCELLED
            expert.left_at = now
            if expert.uniqueid:
                commands.append(HangUp(expert.uniqueid))
    final = SessionState.CANCELLED if session.state is SessionState.DIALLING else SessionState.ENDED
    _set_state(session, final, now, f"the {party.role.value} hung up")
    return commands


def _expert_failed(session: ThreeWaySession, party: Party, outcome: PartyState,
                   reason: str | None, now: datetime) -> list[Command]:
    party.state = outcome
    party.reason = reason
    party.left_at = now
    if session.state is not SessionState.DIALLING:
        return []
    return dial_next(session, now)


# ----- operator requests ----------------------------------------------------------------------

def cancel(session: ThreeWaySession, now: datetime) -> list[Command]:
    """Stop dialling before any expert answered; citizen and operator keep talking."""
    if session.state is not SessionState.DIALLING:
        raise NotDialling(f"三方通话已是{session.state.value}状态，不在呼叫专家中")
    commands: list[Command] = []
    for expert in session.experts:
        if expert.state in (PartyState.RINGING, PartyState.WAITING):
            if expert.state is PartyState.RINGING and expert.uniqueid:
                commands.append(HangUp(expert.uniqueid))
            expert.state = PartyState.CANCELLED
            expert.left_at = now
    _set_state(session, SessionState.CANCELLED, now, "cancelled by the operator")
    return commands


def drop_expert(session: ThreeWaySession, now: datetime) -> list[Command]:
    """The expert leaves; citizen and operator stay in the room."""
    expert = next((p for p in session.experts if p.state is PartyState.IN_CONFERENCE), None)
    if expert is None or session.state not in (SessionState.JOINING, SessionState.CONFERENCE):
        raise NoExpertInCall("通话中没有专家")
    session.leaving.add(expert.uniqueid or "")
    return [HangUp(expert.uniqueid or "")]


def operator_leaves(session: ThreeWaySession, now: datetime) -> list[Command]:
    """The operator hangs up; citizen and expert keep talking."""
    expert_in = any(p.state is PartyState.IN_CONFERENCE for p in session.experts)
    if session.state is not SessionState.CONFERENCE or not expert_in \
            or session.operator.state is not PartyState.IN_CONFERENCE:
        raise NotInConference("只有专家在会议中时，话务员才能退出")
    session.leaving.add(session.operator.uniqueid or "")
    return [HangUp(session.operator.uniqueid or "")]


def end_for_all(session: ThreeWaySession, now: datetime) -> list[Command]:
    """Hang up every party still on the line."""
    if not session.active:
        raise AlreadyOver(f"三方通话已结束（{session.state.value}）")
    on_line = (PartyState.TALKING, PartyState.RINGING, PartyState.IN_CONFERENCE)
    commands = [HangUp(p.uniqueid) for p in session.parties if p.state in on_line and p.uniqueid]
    for party in session.parties:
        if party.state in on_line:
            party.state, party.left_at = PartyState.LEFT, now
        elif party.state is PartyState.WAITING:
            party.state = PartyState.CANCELLED
    _set_state(session, SessionState.ENDED, now, "ended for all by the operator")
    return commands


# ----- after the service (or its AMI link) was away ----------------------------------------------

AWAY = "while the service was away"


def resume(session: ThreeWaySession, in_room: Collection[str], alive: Callable[[str], bool],
           now: datetime) -> list[Command]:
    """Fold what Asterisk shows now into a session whose events were missed (the service
    restarted, or AMI reconnected): `in_room` holds the Uniqueids its conference lists, `alive`
    says whether a channel still exists. Calls carry on in Asterisk regardless; this only makes
    the session true again, so the operator can still leave, drop the expert or end it."""
    if not session.active:
        return []
    roles = {uniqueid: _role_in_room(session, uniqueid) for uniqueid in in_room}
    if not roles:
        return _resume_without_room(session, alive, now)
    if set(roles.values()) == {Role.EXPERT}:
        return _resume_expert_waiting(session, roles, alive, now)
    commands: list[Command] = []
    for party in session.parties:
        if party.uniqueid in roles or (party is session.operator and Role.OPERATOR in roles.values()):
            if party.state is not PartyState.IN_CONFERENCE:
                party.state, party.joined_at = PartyState.IN_CONFERENCE, party.joined_at or now
        elif party.state is PartyState.WAITING:
            party.state = PartyState.CANCELLED
        elif party.state is PartyState.RINGING:
            party.state, party.left_at = PartyState.CANCELLED, now
            if party.uniqueid and alive(party.uniqueid):
                commands.append(HangUp(party.uniqueid))
        elif party.state in (PartyState.TALKING, PartyState.IN_CONFERENCE):
            party.state, party.left_at = PartyState.LEFT, now
    remaining = _in_room(session)
    if len(remaining) < MIN_PARTIES:
        _set_state(session, SessionState.ENDED, now, f"the others left {AWAY}")
        return commands + [HangUp(uniqueid) for uniqueid in roles]
    session.answered_at = session.answered_at or now
    if session.state is not SessionState.CONFERENCE:
        _set_state(session, SessionState.CONFERENCE, now)
    return commands


def _role_in_room(session: ThreeWaySession, uniqueid: str) -> Role:
    """Only the session's parties are sent to its room: a channel it does not know there stands
    for the operator (the seat's Local channel, optimised or not), and is remembered as such."""
    party = session.party(uniqueid)
    if party is not None:
        return party.role
    session.aliases[uniqueid] = session.operator.uniqueid or ""
    return Role.OPERATOR


def _resume_without_room(session: ThreeWaySession, alive: Callable[[str], bool],
                         now: datetime) -> list[Command]:
    talkers_on_line = _talkers_on_line(session, alive)
    ringing = session.current_expert()
    if session.state is SessionState.DIALLING and talkers_on_line:
        if ringing is not None and ringing.uniqueid and alive(ringing.uniqueid):
            return []  # still ringing; the service restarts its ring timer
        if ringing is not None:
            ringing.state, ringing.reason, ringing.left_at = PartyState.NO_ANSWER, f"hung up {AWAY}", now
        return dial_next(session, now)
    commands = [HangUp(p.uniqueid) for p in session.experts
                if p.state in (PartyState.RINGING, PartyState.IN_CONFERENCE)
                and p.uniqueid and alive(p.uniqueid)]
    _leave_all(session, now)
    if session.state is SessionState.DIALLING:
        _set_state(session, SessionState.CANCELLED, now, f"the call ended {AWAY}")
    else:
        _set_state(session, SessionState.ENDED, now, f"the conference ended {AWAY}")
    return commands


def _resume_expert_waiting(session: ThreeWaySession, roles: Mapping[str, Role],
                           alive: Callable[[str], bool], now: datetime) -> list[Command]:
    """The expert answered and waits in the room alone: bring citizen and operator in, as the
    expert's join would have, if they are still talking to each other."""
    expert = next(p for p in session.experts if p.uniqueid in roles)
    talkers_on_line = _talkers_on_line(session, alive)
    if talkers_on_line and session.state in (SessionState.DIALLING, SessionState.JOINING):
        expert.state, expert.joined_at = PartyState.IN_CONFERENCE, expert.joined_at or now
        session.answered_at = session.answered_at or now
        if session.state is not SessionState.JOINING:
            _set_state(session, SessionState.JOINING, now)
        return [MoveIntoRoom()]
    _leave_all(session, now)
    _set_state(session, SessionState.ENDED, now, f"citizen and operator left {AWAY}")
    return [HangUp(uniqueid) for uniqueid in roles]


def _talkers_on_line(session: ThreeWaySession, alive: Callable[[str], bool]) -> bool:
    """Citizen and operator both still have their channels (their own call goes on)."""
    return all(p.uniqueid and alive(p.uniqueid) for p in (session.citizen, session.operator))


def _leave_all(session: ThreeWaySession, now: datetime) -> None:
    for party in session.parties:
        if party.state in (PartyState.TALKING, PartyState.RINGING, PartyState.IN_CONFERENCE):
            party.state, party.left_at = (
                PartyState.CANCELLED if party.state is PartyState.RINGING else PartyState.LEFT, now)
        elif party.state is PartyState.WAITING:
            party.state = PartyState.CANCELLED

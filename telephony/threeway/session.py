"""The three-way session as the service and the API see it: parties, their states and times."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class SessionState(StrEnum):
    DIALLING = "dialling"  # an expert's phone rings; citizen and operator still talk
    JOINING = "joining"  # the expert answered; citizen and operator are being moved in
    CONFERENCE = "conference"  # the parties talk in one room
    FAILED = "failed"  # no expert answered; citizen and operator untouched
    CANCELLED = "cancelled"  # dialling stopped (operator, or the citizen hung up)
    ENDED = "ended"


FINAL_STATES = frozenset({SessionState.FAILED, SessionState.CANCELLED, SessionState.ENDED})


class Role(StrEnum):
    CITIZEN = "citizen"
    OPERATOR = "operator"
    EXPERT = "expert"


class PartyState(StrEnum):
    TALKING = "talking"  # in the original call
    WAITING = "waiting"  # an expert not dialled yet
    RINGING = "ringing"
    SKIPPED = "skipped"  # off duty
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    FAILED = "failed"
    CANCELLED = "cancelled"
    IN_CONFERENCE = "in_conference"
    DROPPED = "dropped"
    LEFT = "left"


@dataclass(slots=True)
class Party:
    """One participant; for experts, one dialling attempt."""

    role: Role
    name: str
    state: PartyState
    channel: str | None = None
    uniqueid: str | None = None
    target: str | None = None  # extension or number dialled (experts)
    reason: str | None = None
    dialled_at: datetime | None = None
    joined_at: datetime | None = None
    left_at: datetime | None = None


@dataclass(slots=True)
class ThreeWaySession:
    session_id: str
    room: str
    seat_id: str
    linkedid: str | None
    department: str | None
    citizen: Party
    operator: Party
    experts: list[Party]
    ring_seconds: int
    started_at: datetime
    state: SessionState = SessionState.DIALLING
    state_since: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    reason: str | None = None
    requested_by: str = ""
    leaving: set[str] = field(default_factory=set)
    """Uniqueids we asked to leave (dropped expert, leaving operator): not a plain hang-up."""
    aliases: dict[str, str] = field(default_factory=dict)
    """Other channels standing for a party (alias Uniqueid -> the party's Uniqueid): the seat's
    Local member channel, which Asterisk optimises away once the seat's Dial completes. Their
    hang-up is not the party's; their ConfBridge events are."""
    picked_up: set[str] = field(default_factory=set)
    """Experts (Uniqueid of their attempt) whose phone answered; the whisper may still be playing."""

    @property
    def active(self) -> bool:
        return self.state not in FINAL_STATES

    @property
    def parties(self) -> list[Party]:
        return [self.citizen, self.operator, *self.experts]

    def current_expert(self) -> Party | None:
        """The expert being dialled or talking, if any."""
        return next((p for p in self.experts
                     if p.state in (PartyState.RINGING, PartyState.IN_CONFERENCE)), None)

    def party(self, uniqueid: str | None) -> Party | None:
        if not uniqueid:
            return None
        uniqueid = self.aliases.get(uniqueid, uniqueid)
        return next((p for p in self.parties if p.uniqueid == uniqueid), None)

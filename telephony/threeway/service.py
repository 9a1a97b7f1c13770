"""Runs three-way sessions over AMI: validates requests, executes the machine's commands.

Asterisk's events reach `on_event` from the hall monitor (a follower: HallMonitor.follow), after
it applied them to the call book, so channel and bridge lookups here see the picture the API shows.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from hotline.config import HotlineConfig
from ivr.names import EXPERT_CONTEXT, THREEWAY_CONTEXT, THREEWAY_OPERATOR_CONTEXT
from telephony.ami import AmiActionError, AmiClient, AmiError
from telephony.calls import ChannelView
from telephony.monitor import HallMonitor
from telephony.picture import HallPicture
from telephony.threeway import machine
from telephony.threeway.directory import ExpertOnDuty, department_experts, find_expert
from telephony.threeway.errors import (
    CallNotConnected,
    CallNotFound,
    CallNotTwoParty,
    DepartmentHasNoExperts,
    DepartmentNotFound,
    DepartmentOrExpert,
    ExpertNotFound,
    SeatNotFound,
    SeatNotOnCall,
    SessionNotFound,
    ThreeWayError,
    ThreeWayInProgress,
)
from telephony.threeway.machine import Command, Dial, HangUp, MoveIntoRoom
from telephony.threeway.session import Party, PartyState, Role, SessionState, ThreeWaySession
from telephony.threeway.store import load_active, save_session

log = logging.getLogger(__name__)

EVENTS = ("Newchannel", "Newstate", "Hangup", "HangupRequest", "ConfbridgeJoin",
          "ConfbridgeLeave", "ConfbridgeEnd", "OriginateResponse")
CALLER_ID = '"12345热线" <12345>'
MS_PER_S = 1000
KEPT_FINISHED = 200
"""Finished sessions kept in memory for the API; the database keeps them all."""
TWO_PARTY = 2
WHISPER_ALLOWANCE_S = 30
"""The Originate's own timeout is the ring time plus this: the expert's leg answers only after
the whisper, and the ring time proper is enforced by the service (`machine.ring_timeout`)."""
NO_ROOM = re.compile(r"^No (Conference|active conferences)", re.IGNORECASE)
"""ConfbridgeList's refusal when the room does not exist (Asterisk 22 app_confbridge)."""
EXPERT_LEG_PREFIX = "tw"
"""Uniqueid (and so Linkedid) prefix of the expert legs this service originates."""


_SESSION_NUMBERS = itertools.count(1)
"""Shared by every hall's service in the process: session ids stay unique over all PBXs."""


class ThreeWayService:
    def __init__(self, config: HotlineConfig, client: AmiClient, monitor: HallMonitor,
                 sessions: sessionmaker[Session] | None, clock: Callable[[], datetime]) -> None:
        self.config = config
        self.client = client
        self.picture: HallPicture = monitor.picture
        self.db = sessions
        self.clock = clock
        self._sessions: dict[str, ThreeWaySession] = {}
        self._ids = _SESSION_NUMBERS
        self._epoch = int(time.time())
        self._tasks: set[asyncio.Task[None]] = set()
        # Several nodes: only the bridge holder takes up sessions another process left behind.
        self.takes_up_stored: Callable[[], bool] = lambda: True
        # Events reach us after the monitor applied them to the call book, and `resume` runs after
        # its rebuild of the picture: the monitor dispatches to its followers in that order.
        monitor.follow(self.on_event, EVENTS, self.resume)

    # ----- reading ------------------------------------------------------------------------
    def sessions(self) -> list[ThreeWaySession]:
        return sorted(self._sessions.values(), key=lambda s: s.started_at, reverse=True)

    def get(self, session_id: str) -> ThreeWaySession:
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionNotFound(f"没有编号为 {session_id!r} 的三方通话")
        return session

    def active_for(self, linkedid: str) -> ThreeWaySession | None:
        return next((s for s in self._sessions.values() if s.active and s.linkedid == linkedid),
                    None)

    # ----- starting -----------------------------------------------------------------------
    async def start(self, linkedid: str, seat_id: str, *, department: str | None,
                    expert: str | None, requested_by: str) -> ThreeWaySession:
        """Check everything before touching a channel, then ring the first expert."""
        now = self.clock()
        candidates = self._candidates(department, expert, now)
        citizen, operator = self._parties_of(linkedid, seat_id)
        if self.active_for(linkedid) is not None:
            raise ThreeWayInProgress("这通电话已有三方通话在进行")
        number = next(self._ids)
        session_id = f"{self._epoch}{number:04d}"
        experts = [Party(Role.EXPERT, c.expert.name, PartyState.WAITING, target=c.target,
                         uniqueid=f"{EXPERT_LEG_PREFIX}{session_id}-{i}")
                   for i, c in enumerate(candidates, start=1)]
        for party, candidate in zip(experts, candidates, strict=True):
            if not candidate.on_duty:
                party.state, party.reason = PartyState.SKIPPED, "off duty"
            elif candidate.target is None:
                party.state, party.reason = PartyState.FAILED, "no extension or number"
        session = ThreeWaySession(
            session_id=session_id, room=session_id, seat_id=seat_id, linkedid=linkedid,
            department=department or (candidates[0].expert.department if candidates else None),
            citizen=citizen, operator=operator, experts=experts,
            ring_seconds=self.config.threeway.expert_ring_seconds, started_at=now,
            state_since=now, requested_by=requested_by)
        self._remember(session)
        await self._execute(session, machine.dial_next(session, now))
        self._save(session)
        return session

    def _candidates(self, department: str | None, expert: str | None,
                    now: datetime) -> list[ExpertOnDuty]:
        if (department is None) == (expert is None):
            raise DepartmentOrExpert("请指定一个部门或一位专家（二选一）")
        if expert is not None:
            found = find_expert(self.config, expert, now)
            if found is None:
                raise ExpertNotFound(f"没有名为 {expert!r} 的专家")
            return [found]
        assert department is not None
        if self.config.department(department) is None:
            raise DepartmentNotFound(f"没有部门 {department!r}")
        found_all = department_experts(self.config, department, now)
        if not found_all:
            raise DepartmentHasNoExperts(f"{department} 没有配置专家")
        return found_all

    def _parties_of(self, linkedid: str, seat_id: str) -> tuple[Party, Party]:
        """Citizen and operator channels of the seat's live call, sharing a two-party bridge."""
        calls = self.picture.calls
        if calls.call(linkedid) is None:
            raise CallNotFound(f"没有进行中的通话 {linkedid!r}")
        view = self.picture.seat(seat_id)
        if view is None:
            raise SeatNotFound(f"没有工号为 {seat_id!r} 的坐席")
        call = view.call
        if call is None or call.ended_at is not None or call.linkedid != linkedid:
            raise SeatNotOnCall(f"坐席 {seat_id} 不在通话 {linkedid} 中")
        citizen = calls.channel_by_name(call.caller_channel or "")
        bridge = calls.bridge_of(citizen.uniqueid) if citizen else None
        if citizen is None or bridge is None:
            raise CallNotConnected("市民与坐席尚未接通")
        others = [name for name in bridge.channels if name != citizen.name]
        if len(bridge.channels) != TWO_PARTY or not others:
            raise CallNotTwoParty("这通电话不是市民与话务员的普通双方通话")
        in_bridge = calls.channel_by_name(others[0])
        assert in_bridge is not None
        phone = self._seat_phone_channel(seat_id, linkedid) or in_bridge
        operator = Party(Role.OPERATOR, seat_id, PartyState.TALKING, channel=phone.name,
                         uniqueid=phone.uniqueid)
        return (Party(Role.CITIZEN, call.citizen_name or call.citizen_number or "citizen",
                      PartyState.TALKING, channel=citizen.name, uniqueid=citizen.uniqueid),
                operator)

    def _seat_phone_channel(self, seat_id: str, linkedid: str) -> ChannelView | None:
        """The seat phone's own channel on this call. The queue bridge may still hold the
        seat's Local member channel (while the 工号 announcement plays); Asterisk optimises
        that away later, so the phone's channel is the operator's lasting identity."""
        seat = self.config.seat(seat_id)
        if seat is None:
            return None
        prefix = f"PJSIP/{seat.extension}-"
        return next((c for c in self.picture.calls.channels()
                     if c.name.startswith(prefix) and c.linkedid == linkedid), None)

    # ----- operator requests ----------------------------------------------------------------
    async def request(self, session_id: str,
                      action: Callable[[ThreeWaySession, datetime], list[Command]]) -> ThreeWaySession:
        session = self.get(session_id)
        commands = action(session, self.clock())  # the machine refuses (RequestRefused) itself
        await self._execute(session, commands)
        self._save(session)
        return session

    # ----- events -----------------------------------------------------------------------------
    async def on_event(self, event: Mapping[str, str]) -> None:
        now = self.clock()
        for session in [s for s in self._sessions.values() if self._concerns(s, event)]:
            before = _fingerprint(session)
            commands = machine.apply(session, event, now)
            if commands:
                self._spawn(self._execute(session, commands))
            if _fingerprint(session) != before:
                self._save(session)

    @staticmethod
    def _concerns(session: ThreeWaySession, event: Mapping[str, str]) -> bool:
        return session.party(event.get("Uniqueid")) is not None \
            or event.get("Conference") == session.room \
            or (event.get("Event") == "Newstate" and session.party(event.get("Linkedid")) is not None)

    # ----- after a restart or an AMI reconnect ------------------------------------------------
    async def resume(self, client: AmiClient) -> None:
        """Take up the sessions still in progress: those in memory (events were missed while AMI
        was down) and, after a restart, those the database holds. Each is checked against its
        conference room and the live channels; see `machine.resume`."""
        loaded: set[str] = set()
        if self.db is not None and self.takes_up_stored():
            try:
                stored = load_active(self.db, self.config.threeway.expert_ring_seconds, self.clock())
            except Exception:
                log.exception("three-way sessions in progress could not be read; not resumed")
                stored = []
            mine = {seat.seat_id for seat in self.config.seats}
            for session in stored:
                # With several PBXs each hall resumes only the sessions of its own seats.
                if session.session_id not in self._sessions and session.seat_id in mine:
                    self._remember(session)
                    loaded.add(session.session_id)
        for session in [s for s in self._sessions.values() if s.active]:
            try:
                in_room = await self._room_members(client, session.room)
            except AmiError as error:
                log.warning("three-way %s: room not listed (%s); resumed at the next login",
                            session.session_id, error)
                continue
            before = _fingerprint(session)
            commands = machine.resume(session, in_room, self._alive, self.clock())
            log.info("three-way %s resumed as %s (room: %d)", session.session_id,
                     session.state.value, len(in_room))
            await self._execute(session, commands)
            ringing = session.current_expert()
            if session.session_id in loaded and session.state is SessionState.DIALLING \
                    and ringing is not None and ringing.uniqueid and not commands:
                self._ring_timer(session, ringing.uniqueid)  # the old process's timer died with it
            if session.session_id in loaded or _fingerprint(session) != before:
                self._save(session)

    async def _room_members(self, client: AmiClient, room: str) -> set[str]:
        """Uniqueids in the session's conference; none when Asterisk has no such room."""
        try:
            response = await client.send_action("ConfbridgeList", Conference=room)
        except AmiActionError as error:
            if NO_ROOM.search(error.message.get("Message") or ""):
                return set()
            raise
        return {e["Uniqueid"] for e in response.events
                if e.get("Event") == "ConfbridgeList" and e.get("Uniqueid")}

    def _alive(self, uniqueid: str) -> bool:
        return self.picture.calls.channel(uniqueid) is not None

    # ----- commands ---------------------------------------------------------------------------
    async def _execute(self, session: ThreeWaySession, commands: Iterable[Command]) -> None:
        for command in commands:
            if isinstance(command, Dial):
                await self._dial(session, command.expert)
            elif isinstance(command, MoveIntoRoom):
                await self._move_into_room(session)
            elif isinstance(command, HangUp):
                await self._hang_up(command.channel)

    async def _dial(self, session: ThreeWaySession, expert: Party) -> None:
        uniqueid = expert.uniqueid or ""
        try:
            await self.client.send_action(
                "Originate", Channel=f"Local/{expert.target}@{EXPERT_CONTEXT}/n",
                Context=THREEWAY_CONTEXT, Exten=session.room, Priority="1",
                Timeout=str((session.ring_seconds + WHISPER_ALLOWANCE_S) * MS_PER_S),
                CallerID=CALLER_ID, Async="true",
                ChannelId=uniqueid, OtherChannelId=f"{uniqueid}b",
                Variable=f"HOTLINE_THREEWAY={session.session_id}")
        except AmiError as error:
            log.warning("three-way %s: originate to %s failed: %s", session.session_id,
                        expert.name, error)
            expert.state, expert.reason, expert.left_at = PartyState.FAILED, str(error), self.clock()
            await self._execute(session, machine.dial_next(session, self.clock()))
            return
        self._ring_timer(session, uniqueid)

    def _ring_timer(self, session: ThreeWaySession, uniqueid: str) -> None:
        asyncio.get_running_loop().call_later(
            session.ring_seconds, lambda: self._spawn(self._ring_over(session, uniqueid)))

    async def _ring_over(self, session: ThreeWaySession, uniqueid: str) -> None:
        commands = machine.ring_timeout(session, uniqueid, self.clock())
        if commands:
            await self._execute(session, commands)
            self._save(session)

    async def _move_into_room(self, session: ThreeWaySession) -> None:
        """Redirect both talkers at once (ExtraChannel): the queue bridge must not dissolve
        with one of them still in it. The operator's channel is read again from the bridge:
        a Local seat channel may have been optimised away since the start."""
        calls = self.picture.calls
        bridge = calls.bridge_of(session.citizen.uniqueid or "")
        operator_leg = session.operator.channel or ""
        if bridge is not None:
            for name in bridge.channels:
                peer = calls.channel_by_name(name)
                if peer is not None and peer.uniqueid != session.citizen.uniqueid:
                    operator_leg = peer.name
                    if peer.uniqueid != session.operator.uniqueid:
                        session.aliases[peer.uniqueid] = session.operator.uniqueid or ""
        try:
            await self.client.send_action(
                "Redirect", Channel=session.citizen.channel or "", Context=THREEWAY_CONTEXT,
                Exten=session.room, Priority="1", ExtraChannel=operator_leg,
                ExtraContext=THREEWAY_OPERATOR_CONTEXT, ExtraExten=session.room,
                ExtraPriority="1")
        except AmiError as error:
            log.warning("three-way %s: redirect failed: %s", session.session_id, error)
            now = self.clock()
            commands = machine.end_for_all(session, now) if session.active else []
            session.reason = f"could not join the conference: {error}"
            await self._execute(session, [c for c in commands if isinstance(c, HangUp)
                                          and c.channel not in (session.citizen.uniqueid,
                                                                session.operator.uniqueid)])
            self._save(session)

    async def _hang_up(self, channel: str) -> None:
        live = self.picture.calls.channel(channel)
        try:
            await self.client.send_action("Hangup", Channel=live.name if live else channel)
        except AmiError as error:
            log.info("hangup of %s: %s", channel, error)

    # ----- bookkeeping --------------------------------------------------------------------------
    def _remember(self, session: ThreeWaySession) -> None:
        self._sessions[session.session_id] = session
        finished = [s for s in self.sessions() if not s.active]
        for old in finished[KEPT_FINISHED:]:
            self._sessions.pop(old.session_id, None)

    def _spawn(self, work: asyncio.Future[None] | asyncio.Task[None] | object) -> None:
        task = asyncio.ensure_future(work)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _save(self, session: ThreeWaySession) -> None:
        if self.db is None:
            return
        try:
            save_session(self.db, session)
        except Exception:  # the live call matters more than its record
            log.exception("three-way %s: could not store the session", session.session_id)


def _fingerprint(session: ThreeWaySession) -> tuple[object, ...]:
    return (session.state, session.reason,
            *((p.state, p.reason, p.channel, p.uniqueid) for p in session.parties))


def is_expert_leg(linkedid: str) -> bool:
    """An expert's leg is originated with its own ids, so it shows up as a call of its own."""
    return linkedid.startswith(EXPERT_LEG_PREFIX)


__all__ = ["EXPERT_LEG_PREFIX", "SessionState", "ThreeWayError", "ThreeWayService", "is_expert_leg"]

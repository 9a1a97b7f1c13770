"""The bridge lease: which node writes what a PBX's AMI stream says (one row per PBX).

Why a lease row with a heartbeat rather than an advisory lock: the row names its holder, so
every node (and `/api/health`) can say who bridges each PBX, and it holds across a network
partition — a holder cut off from the database stops writing on its own clock before the row
expires on the database's clock, where an advisory lock would stay with a half-open connection
until TCP gives up. Times are the database's (`clock_timestamp()`), so nodes' clocks never
decide who holds it. The step is one UPDATE: renew mine, or take one that has expired.

On SQLite there is one node: it holds every lease from the start and the table is not used.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import String, case, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from hotline.db.base import Base
from hotline.db.types import UTCDateTime, utcnow
from hotline.tasks import cancel_and_wait

log = logging.getLogger(__name__)

DEFAULT_PBX = "main"
NODE_ENV = "HOTLINE_NODE_ID"
TTL_S = 5.0
"""A lease not renewed for this long (database clock) may be taken by another node."""
RENEW_S = 1.0
MARGIN_S = 1.5
"""A holder that has not renewed for TTL_S - MARGIN_S stops writing: before anyone may take it."""
NAME_MAX = 128

Hook = Callable[[], Awaitable[None]]


class LeaseRow(Base):
    __tablename__ = "bridge_leases"

    pbx: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
    node: Mapped[str] = mapped_column(String(NAME_MAX))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    renewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def default_node_id(port: int | None = None) -> str:
    """$HOTLINE_NODE_ID, else host name and port (unique per `hotline serve` on a machine)."""
    configured = os.environ.get(NODE_ENV, "").strip()
    if configured:
        return configured[:NAME_MAX]
    host = socket.gethostname()
    return (f"{host}:{port}" if port is not None else f"{host}:{os.getpid()}")[:NAME_MAX]


def _db_now(session: Session) -> datetime:
    if session.get_bind().dialect.name == "postgresql":
        return session.scalar(text("SELECT clock_timestamp()"))
    return utcnow()


def try_hold(sessions: sessionmaker[Session], pbx: str, node: str, ttl: float = TTL_S) -> str | None:
    """Renew `node`'s lease on `pbx`, or take it when free or expired; the holder afterwards
    (`node` itself when it holds it; None when two nodes raced for the first row)."""
    try:
        with sessions() as session, session.begin():
            now = _db_now(session)
            result = session.execute(
                update(LeaseRow)
                .where(LeaseRow.pbx == pbx, or_(LeaseRow.node == node, LeaseRow.expires_at < now))
                .values(node=node, renewed_at=now, expires_at=now + timedelta(seconds=ttl),
                        acquired_at=case((LeaseRow.node == node, LeaseRow.acquired_at), else_=now))
                .execution_options(synchronize_session=False))
            if result.rowcount == 1:
                return node
            current = session.get(LeaseRow, pbx)
            if current is not None:
                return current.node
            session.add(LeaseRow(pbx=pbx, node=node, acquired_at=now, renewed_at=now,
                                 expires_at=now + timedelta(seconds=ttl)))
        return node
    except IntegrityError:
        return None  # another node inserted the first row at the same moment


def give_up(sessions: sessionmaker[Session], pbx: str, node: str) -> None:
    """Let the next node take the lease at once (a clean shutdown)."""
    with sessions() as session, session.begin():
        now = _db_now(session)
        session.execute(update(LeaseRow).where(LeaseRow.pbx == pbx, LeaseRow.node == node)
                        .values(expires_at=now - timedelta(seconds=1))
                        .execution_options(synchronize_session=False))


def lease_holders(session: Session) -> list[dict[str, Any]]:
    """Every PBX's lease as the database has it, with whether it is still current."""
    now = _db_now(session)
    rows = session.scalars(select(LeaseRow).order_by(LeaseRow.pbx)).all()
    return [{"pbx": r.pbx, "node": r.node if r.expires_at >= now else None,
             "last_node": r.node, "since": r.acquired_at, "expires_at": r.expires_at} for r in rows]


class Step(StrEnum):
    GAIN = "gain"
    LOSE = "lose"
    KEEP = "keep"


@dataclass(frozen=True)
class Attempt:
    """What one renewal attempt said: who holds the lease, if the database answered."""

    @property
    def held(self) -> bool | None:
        """True: this node holds it; False: another does; None: no answer (or a tie)."""
        if not self.answered or self.holder is None:
            return None
        return self.holder == self.node

    node: str
    holder: str | None
    answered: bool
    started: float  # monotonic, before the request was sent


def next_step(holding: bool, attempt: Attempt | None, valid_until: float, now: float) -> Step:
    """The pure decision after a renewal attempt (or none finished yet)."""
    if attempt is not None and attempt.held is True:
        return Step.KEEP if holding else Step.GAIN
    if holding and ((attempt is not None and attempt.held is False) or now >= valid_until):
        return Step.LOSE
    return Step.KEEP


class BridgeLease:
    """Holds (or waits for) the lease on one PBX's bridge; a lifespan component.

    `on_acquired` hooks run when this node starts writing, `on_lost` when it must stop.
    """

    def __init__(self, sessions: sessionmaker[Session], *, pbx: str = DEFAULT_PBX, node_id: str,
                 single: bool | None = None, ttl: float = TTL_S, renew: float = RENEW_S) -> None:
        self.sessions = sessions
        self.pbx = pbx
        self.node_id = node_id
        self.name = f"bridge-lease:{pbx}"
        self.single = (sessions.kw["bind"].dialect.name != "postgresql") if single is None else single
        self.ttl, self.renew = ttl, renew
        self.held = False
        self.holder: str | None = None  # who holds it, as the last attempt found
        self.stopping = False
        self.held_since: datetime | None = None
        self.last_error: str | None = None
        self.changes = 0
        self.on_acquired: list[Hook] = []
        self.on_lost: list[Hook] = []
        self._valid_until = 0.0
        self._pending: asyncio.Future[str | None] | None = None
        self._pending_started = 0.0
        self._task: asyncio.Task[None] | None = None
        # Its own thread: a renewal never waits behind the workers' long passes.
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=self.name)

    async def start(self, app: Any) -> None:
        leases = getattr(app.state, "bridge_leases", None) or {}
        leases[self.pbx] = self
        app.state.bridge_leases = leases
        if self.single:
            await self._gain()
            return
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        self.stopping = True
        if self.held:
            await self._lose("shutting down")
            if not self.single:
                try:
                    await asyncio.wait_for(asyncio.to_thread(give_up, self.sessions, self.pbx,
                                                             self.node_id), self.renew * 2)
                except Exception as exc:  # the lease then simply expires
                    log.warning("lease %s not handed back: %s", self.pbx, exc)
        self._executor.shutdown(wait=False, cancel_futures=True)

    def describe(self) -> dict[str, Any]:
        """This PBX's bridge as /api/health and /api/status show it (at most RENEW_S old)."""
        holder = self.node_id if self.held else self.holder
        return {"pbx": self.pbx, "node": holder, "this_node": self.held, "since": self.held_since}

    async def _attempt(self) -> Attempt | None:
        """Start a renewal unless one is still out (a database that does not answer)."""
        if self._pending is None:
            started = time.monotonic()
            loop = asyncio.get_running_loop()
            self._pending = loop.run_in_executor(self._executor, try_hold, self.sessions, self.pbx,
                                                 self.node_id, self.ttl)
            self._pending_started = started
        try:
            holder = await asyncio.wait_for(asyncio.shield(self._pending), self.renew)
        except TimeoutError:
            return None
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"[:300]
            self._pending = None
            return Attempt(self.node_id, None, False, self._pending_started)
        self._pending = None
        self.last_error = None
        self.holder = holder
        return Attempt(self.node_id, holder, True, self._pending_started)

    async def _run(self) -> None:
        while True:
            tick = time.monotonic()
            attempt = await self._attempt()
            if attempt is not None and attempt.held:
                self._valid_until = attempt.started + self.ttl - MARGIN_S
            step = next_step(self.held, attempt, self._valid_until, time.monotonic())
            if step is Step.GAIN:
                await self._gain()
            elif step is Step.LOSE:
                await self._lose(self.last_error or "taken by another node")
            await asyncio.sleep(max(0.0, self.renew - (time.monotonic() - tick)))

    async def _gain(self) -> None:
        self.held, self.held_since, self.changes = True, utcnow(), self.changes + 1
        # A handover is news for whoever watches several nodes; a single node's start is not.
        log.log(logging.INFO if self.single else logging.WARNING,
                "node %s now holds the bridge of PBX %s", self.node_id, self.pbx,
                extra={"pbx": self.pbx, "node": self.node_id})
        await self._run_hooks(self.on_acquired)

    async def _lose(self, reason: str) -> None:
        self.held, self.held_since, self.changes = False, None, self.changes + 1
        log.log(logging.INFO if self.single else logging.WARNING,
                "node %s no longer holds the bridge of PBX %s (%s)", self.node_id, self.pbx,
                reason, extra={"pbx": self.pbx, "node": self.node_id})
        await self._run_hooks(self.on_lost)

    async def _run_hooks(self, hooks: list[Hook]) -> None:
        for hook in hooks:
            try:
                await hook()
            except Exception:
                log.exception("bridge lease %s: a hook failed", self.pbx)

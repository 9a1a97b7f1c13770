"""The bridge lease on a real PostgreSQL: one holder, takeover after expiry or a clean hand-back,
a holder cut off from the database stops writing before anyone else may start."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from hotline.cluster import BridgeLease
from hotline.cluster.lease import Attempt, Step, give_up, lease_holders, next_step, try_hold
from hotline.db import make_engine, make_session_factory, upgrade_database
from tests.service_process import TcpProxy

pytestmark = pytest.mark.postgres
TTL = 2.0
HELD = 120.0
RENEW = 0.2


@pytest.fixture
def pg_sessions(postgres_url: str) -> Iterator[sessionmaker[Session]]:
    upgrade_database(postgres_url)
    engine = make_engine(postgres_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_next_step_is_a_pure_decision() -> None:
    mine = Attempt("a", "a", True, 0.0)
    theirs = Attempt("a", "b", True, 0.0)
    silent = Attempt("a", None, False, 0.0)
    assert next_step(False, mine, 0.0, 1.0) is Step.GAIN
    assert next_step(True, mine, 0.0, 1.0) is Step.KEEP
    assert next_step(True, theirs, 10.0, 1.0) is Step.LOSE
    assert next_step(True, silent, 10.0, 1.0) is Step.KEEP  # still within its lease
    assert next_step(True, silent, 10.0, 11.0) is Step.LOSE
    assert next_step(True, None, 10.0, 11.0) is Step.LOSE  # the database never answered
    assert next_step(False, theirs, 0.0, 1.0) is Step.KEEP


def test_one_holder_until_it_expires_or_is_handed_back(pg_sessions: sessionmaker[Session]) -> None:
    # Held for a long while (a slow, loaded machine never lets it expire by accident) ...
    assert try_hold(pg_sessions, "main", "a", ttl=HELD) == "a"
    assert try_hold(pg_sessions, "main", "b", ttl=HELD) == "a"
    assert try_hold(pg_sessions, "other", "b", ttl=HELD) == "b"  # each PBX has its own lease
    # ... then renewed for a short while only, which the database's clock lets run out.
    assert try_hold(pg_sessions, "main", "a", ttl=TTL) == "a"
    time.sleep(TTL + 0.3)
    assert try_hold(pg_sessions, "main", "b", ttl=HELD) == "b"
    assert try_hold(pg_sessions, "main", "a", ttl=HELD) == "b"
    give_up(pg_sessions, "main", "b")
    assert try_hold(pg_sessions, "main", "a", ttl=HELD) == "a"
    assert try_hold(pg_sessions, "other", "b", ttl=HELD) == "b"
    with pg_sessions() as session:
        holders = {row["pbx"]: row["node"] for row in lease_holders(session)}
    assert holders == {"main": "a", "other": "b"}


class Node:
    """A lease with hooks that note when this node started and stopped writing."""

    def __init__(self, sessions: sessionmaker[Session], name: str) -> None:
        self.lease = BridgeLease(sessions, node_id=name, ttl=TTL, renew=RENEW)
        self.gained: list[float] = []
        self.lost: list[float] = []

        async def gained() -> None:
            self.gained.append(time.monotonic())

        async def lost() -> None:
            self.lost.append(time.monotonic())

        self.lease.on_acquired.append(gained)
        self.lease.on_lost.append(lost)

    async def start(self) -> None:
        await self.lease.start(SimpleNamespace(state=SimpleNamespace()))


async def wait_until(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_dead_holder_is_replaced_within_its_lease_time(pg_sessions: sessionmaker[Session]) -> None:
    a, b = Node(pg_sessions, "a"), Node(pg_sessions, "b")
    await a.start()
    await wait_until(lambda: a.lease.held, 5)
    await b.start()
    await asyncio.sleep(TTL)
    assert not b.lease.held and b.lease.holder == "a"
    assert b.lease.describe()["node"] == "a"
    a.lease._task.cancel()  # the process dies: no hand-back, no more renewals
    died = time.monotonic()
    await wait_until(lambda: b.lease.held, TTL + 3 * RENEW + 2)
    assert b.gained[0] - died <= TTL + 3 * RENEW + 1
    await b.lease.stop()
    assert b.lost  # a clean stop says so to its hooks


async def test_a_clean_stop_hands_the_lease_over_at_once(pg_sessions: sessionmaker[Session]) -> None:
    a, b = Node(pg_sessions, "a"), Node(pg_sessions, "b")
    await a.start()
    await wait_until(lambda: a.lease.held, 5)
    await b.start()
    stopped = time.monotonic()
    await a.lease.stop()
    await wait_until(lambda: b.lease.held, TTL)
    assert b.gained[0] - stopped < TTL
    await b.lease.stop()


async def test_a_holder_that_loses_the_database_stops_before_another_starts(postgres_url: str) -> None:
    upgrade_database(postgres_url)
    url = make_url(postgres_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    cut_off = make_engine(url.set(port=proxy.port), connect_args={"connect_timeout": 1})
    direct = make_engine(postgres_url)
    a, b = Node(make_session_factory(cut_off), "a"), Node(make_session_factory(direct), "b")
    try:
        await a.start()
        await wait_until(lambda: a.lease.held, 5)
        await b.start()
        await proxy.stop()  # a can no longer reach the database
        await wait_until(lambda: b.lease.held, TTL + 5)
        assert a.lost and not a.lease.held
        assert a.lost[0] < b.gained[0]  # never two writers
    finally:
        for node in (a, b):
            await node.lease.stop()
        cut_off.dispose()
        direct.dispose()


def test_on_sqlite_the_one_node_always_holds(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/one.db")
    lease = BridgeLease(make_session_factory(engine), node_id="solo")
    asyncio.run(lease.start(SimpleNamespace(state=SimpleNamespace())))
    assert lease.held and lease.describe() == {"pbx": "main", "node": "solo", "this_node": True,
                                               "since": lease.held_since}
    asyncio.run(lease.stop())
    engine.dispose()

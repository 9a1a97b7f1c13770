"""The bridge handed over: what the new holder saw while the old one may have been gone is
written once — not lost, and not twice when the old holder had written it already."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from hotline.cluster import BridgeLease
from hotline.db import make_engine, make_session_factory, upgrade_database
from seat_manager.models import SeatStateChange
from seat_manager.state import SeatState
from telephony import recorder as recorder_module
from telephony.hall import Hall
from telephony.models import CallRecord
from tests.cluster.test_claims import hall_config
from tests.service_process import TcpProxy
from tests.telephony.test_recorder import abandon, make_recorder

NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def change(seat: str, old: SeatState, new: SeatState, at: datetime) -> SeatStateChange:
    return SeatStateChange(seat_id=seat, old_state=old.value, new_state=new.value, at=at)


def test_the_new_holder_writes_what_the_old_one_had_not(db_sessions: sessionmaker[Session]) -> None:
    old, new = make_recorder(db_sessions), make_recorder(db_sessions)
    new.holding = False  # a node following Asterisk without the bridge
    # Both nodes saw the first call abandoned and seat 01 log in; the old holder wrote them.
    for recorder in (old, new):
        recorder(abandon("9.1", "13800138000"), [], NOW)
    old._pending.append(change("01", SeatState.LOGGED_OUT, SeatState.AVAILABLE, NOW))
    new._pending.append(change("01", SeatState.LOGGED_OUT, SeatState.AVAILABLE,
                               NOW + timedelta(milliseconds=40)))  # its own clock, a moment later
    asyncio.run(old.flush())
    # The old holder dies; only the new node saw what came next.
    new(abandon("9.2", "13800138001"), [], NOW + timedelta(seconds=3))
    new._pending.append(change("01", SeatState.AVAILABLE, SeatState.PAUSED, NOW + timedelta(seconds=4)))

    async def take_over() -> None:
        await new.take_over()
        await new.hand_over()

    asyncio.run(take_over())
    with db_sessions() as session:
        calls = sorted(r.call_key for r in session.scalars(select(CallRecord)))
        changes = [(r.old_state, r.new_state) for r in session.scalars(
            select(SeatStateChange).order_by(SeatStateChange.at))]
    assert calls == ["abandoned:9.1", "abandoned:9.2"]
    assert changes == [("logged_out", "available"), ("available", "paused")]


def test_a_node_without_the_bridge_keeps_only_the_last_minute() -> None:
    recorder = make_recorder(None)  # type: ignore[arg-type]  (nothing is written here)
    recorder.holding = False
    recorder(abandon("8.1", "13800138000"), [], NOW)
    later = NOW + timedelta(seconds=recorder_module.HANDOVER_S + 1)
    recorder(abandon("8.2", "13800138001"), [], later)
    assert [row.call_key for row in recorder._pending] == ["abandoned:8.2"]


@pytest.mark.postgres
async def test_a_hall_stops_writing_when_its_node_loses_the_database(postgres_url: str,
                                                                    tmp_path: Path) -> None:
    """The holder cut off from PostgreSQL stops its recorder before another node may start."""
    upgrade_database(postgres_url)
    config = hall_config(tmp_path, postgres_url)
    url = make_url(postgres_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    store = make_engine(postgres_url)
    cut_off = make_engine(url.set(port=proxy.port), connect_args={"connect_timeout": 1})
    hall = Hall(config, make_session_factory(store))
    lease = BridgeLease(make_session_factory(cut_off), node_id="a", ttl=2.0, renew=0.2)
    hall.follow_lease(lease)
    app = SimpleNamespace(state=SimpleNamespace())
    recorder = hall.recorder
    assert recorder is not None and not recorder.holding  # follows Asterisk, writes nothing yet
    try:
        await hall.start(app)
        await lease.start(app)
        await wait_until(lambda: lease.held and recorder.holding and recorder._task is not None, 10)
        await proxy.stop()
        await wait_until(lambda: not lease.held, 10)
        assert not recorder.holding and recorder._task is None
    finally:
        await lease.stop()
        await hall.stop()
        store.dispose()
        cut_off.dispose()


async def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)

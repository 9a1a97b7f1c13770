"""The callback queue's rules on both databases: atomic claims under 20 concurrent claimers,
claim expiry, retries on an injected clock, unreachable after the last attempt."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config.model import CallbacksConfig
from hotline.db import AuditEntry, make_engine, make_session_factory, session_scope, upgrade_database
from tests.db.conftest import database_url, postgres_database, postgres_url, sqlite_url  # noqa: F401
from tests.voicemail.callback_fixtures import T0, add_valid
from voicemail.callbacks import errors, service
from voicemail.callbacks.models import Callback, CallbackAttempt
from voicemail.callbacks.service import Actor

SETTINGS = CallbacksConfig(claim_minutes=10, max_attempts=3, retry_minutes=30)
CLAIMERS = 20
CALLBACKS = 10
ZHANG = Actor("zhang.wei", "operator")
LI = Actor("li.na", "operator")


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:  # noqa: F811
    upgrade_database(database_url)
    engine = make_engine(database_url, pool_size=CLAIMERS + 5) \
        if database_url.startswith("postgresql") else make_engine(database_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


def test_twenty_concurrent_claimers_never_share_a_callback(sessions) -> None:
    ids = add_valid(sessions, CALLBACKS)
    barrier = threading.Barrier(CLAIMERS)
    got: list[int | None] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def claimer(n: int) -> None:
        try:
            barrier.wait()
            with session_scope(sessions) as session:
                row = service.claim_next(session, Actor(f"staff{n}", "operator"), T0, SETTINGS)
                result = row.id if row else None
            with lock:
                got.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    claimed = [i for i in got if i is not None]
    assert sorted(claimed) == sorted(ids)  # every callback exactly once
    assert got.count(None) == CLAIMERS - CALLBACKS
    with sessions() as session:
        holders = session.execute(select(Callback.id, Callback.claimed_by)).all()
        assert len({holder for _, holder in holders}) == CALLBACKS
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "callback.claim")) == CALLBACKS


def test_queue_orders_urgent_first_then_oldest(sessions) -> None:
    normal = add_valid(sessions, 2)
    urgent = add_valid(sessions, 2, priority="urgent", start=5)
    with session_scope(sessions) as session:
        assert [r.id for r in service.queue(session, T0)] == urgent + normal
        first = service.claim_next(session, ZHANG, T0, SETTINGS)
        assert first is not None and first.id == urgent[0]


def test_enqueue_is_idempotent_on_the_voicemail(sessions) -> None:
    [callback_id] = add_valid(sessions, 1)
    with session_scope(sessions) as session:
        row = session.get(Callback, callback_id)
        again = service.enqueue_callback(session, row.voicemail_id, priority="urgent",
                                         department=None, number="13800000000")
        assert again.id == callback_id and again.priority == "normal"
        assert session.scalar(select(func.count()).select_from(Callback)) == 1
        assert row.transcript_excerpt == "家里停水三天了"


def test_unfinished_claim_expires_back_to_the_queue(sessions) -> None:
    [callback_id] = add_valid(sessions, 1)
    with session_scope(sessions) as session:
        service.claim(session, callback_id, ZHANG, T0, SETTINGS)
    just_before = T0 + timedelta(minutes=SETTINGS.claim_minutes) - timedelta(seconds=1)
    with session_scope(sessions) as session, pytest.raises(errors.Conflict):
        service.claim(session, callback_id, LI, just_before, SETTINGS)
    expiry = T0 + timedelta(minutes=SETTINGS.claim_minutes)
    with session_scope(sessions) as session:
        row = service.claim(session, callback_id, LI, expiry, SETTINGS)
        assert row.claimed_by == LI.name
    with sessions() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions[-3:] == ["callback.claim", "callback.claim_expired", "callback.claim"]


def test_no_answer_is_retried_after_the_interval_then_closed_unreachable(sessions) -> None:
    [callback_id] = add_valid(sessions, 1)
    now = T0
    for attempt in range(1, SETTINGS.max_attempts + 1):
        with session_scope(sessions) as session:
            service.claim(session, callback_id, ZHANG, now, SETTINGS)
            outcome = "busy" if attempt == 2 else "no_answer"
            row = service.record_outcome(session, callback_id, ZHANG, outcome, now, SETTINGS)
        if attempt < SETTINGS.max_attempts:
            assert row.state == "queued"
            assert row.due_at == now + timedelta(minutes=SETTINGS.retry_minutes)
            early = now + timedelta(minutes=SETTINGS.retry_minutes) - timedelta(seconds=1)
            with session_scope(sessions) as session:
                assert service.claim_next(session, LI, early, SETTINGS) is None
                with pytest.raises(errors.Conflict) as refused:
                    service.claim(session, callback_id, LI, early, SETTINGS)
                assert refused.value.code == "not_due"
            now += timedelta(minutes=SETTINGS.retry_minutes)
    assert row.state == "closed" and row.resolution == "unreachable"
    assert row.attempts == SETTINGS.max_attempts
    with sessions() as session:
        history = session.scalars(select(CallbackAttempt).order_by(CallbackAttempt.attempt)).all()
        assert [(a.attempt, a.outcome) for a in history] == [
            (1, "no_answer"), (2, "busy"), (3, "no_answer")]


def test_transfer_needs_a_configured_department(sessions) -> None:
    [callback_id] = add_valid(sessions, 1)
    with session_scope(sessions) as session:
        service.claim(session, callback_id, ZHANG, T0, SETTINGS)
    with session_scope(sessions) as session:
        with pytest.raises(errors.Invalid) as refused:
            service.record_outcome(session, callback_id, ZHANG, "reached_transferred", T0,
                                   SETTINGS, department="不存在局", departments=["供水集团"])
        assert refused.value.code == "unknown_department"
        row = service.record_outcome(session, callback_id, ZHANG, "reached_transferred", T0,
                                     SETTINGS, department="供水集团", departments=["供水集团"])
        assert (row.state, row.resolution, row.transferred_to) == \
            ("closed", "transferred", "供水集团")


def test_withdraw_takes_a_queued_callback_out_but_leaves_a_held_one(sessions) -> None:
    queued_id, held_id = add_valid(sessions, 2)
    with session_scope(sessions) as session:
        service.claim(session, held_id, ZHANG, T0, SETTINGS)
    with session_scope(sessions) as session:
        queued, held = session.get(Callback, queued_id), session.get(Callback, held_id)
        assert service.withdraw_callback(session, queued.voicemail_id, reason="duplicate") is True
        assert service.withdraw_callback(session, held.voicemail_id, reason="duplicate") is False
    with session_scope(sessions) as session:
        queued, held = session.get(Callback, queued_id), session.get(Callback, held_id)
        assert (queued.state, queued.resolution) == ("closed", "withdrawn")
        assert held.state == "claimed"
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "callback.withdraw")) == 1

"""The in-memory token cache against real databases: answers from memory, and a revocation made
by another process reaches it through the table fingerprint (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from functools import partial

from hotline.auth import Role, add_token, revoke_token
from hotline.auth.deps import _lookup
from hotline.auth.models import ApiToken
from hotline.auth.token_cache import MAX_STALENESS_S, TokenCache
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database

REVOKE_SCRIPT = """
import sys
from hotline.auth import revoke_token
from hotline.db import make_engine, make_session_factory, session_scope
engine = make_engine(sys.argv[1])
with session_scope(make_session_factory(engine)) as session:
    revoke_token(session, sys.argv[2])
engine.dispose()
"""
WAIT_LIMIT_S = 15.0
"""Generous against a loaded machine; the cache promises MAX_STALENESS_S."""
POLL_S = 0.05


async def _until_refused(cache: TokenCache, token: str, lookup: partial[object]) -> int:
    """Ask until the token is refused; how many answers still admitted it."""
    admitted = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_LIMIT_S
    while await cache.principal(token, lookup) is not None:
        admitted += 1
        assert loop.time() < deadline, "the revocation never reached the cache"
        await asyncio.sleep(POLL_S)
    return admitted


def test_known_tokens_are_answered_from_memory_and_a_revocation_elsewhere_arrives(
        database_url: str) -> None:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        token = add_token(session, "wall-east", Role.MONITOR)
        other = add_token(session, "wall-west", Role.MONITOR)
    lookup = partial(_lookup, sessions)

    async def scenario() -> None:
        cache = TokenCache(sessions)
        for _ in range(50):
            principal = await cache.principal(token, lookup)
            assert principal is not None and principal.name == "wall-east"
        assert cache.lookups == 1
        assert await cache.principal("hl_not-a-token", lookup) is None
        assert await cache.principal("hl_not-a-token", lookup) is None
        assert cache.lookups == 3  # unknown tokens are never kept

        # Another process revokes: only the table fingerprint can tell this one.
        subprocess.run([sys.executable, "-c", REVOKE_SCRIPT, database_url, "wall-east"], check=True)
        await _until_refused(cache, token, lookup)
        assert await cache.principal(token, lookup) is None
        assert (await cache.principal(other, lookup)) is not None  # the other token still works
        assert cache.checks >= 2

    try:
        asyncio.run(scenario())
    finally:
        engine.dispose()


def test_a_revocation_in_this_process_is_effective_at_once(database_url: str) -> None:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        token = add_token(session, "night-shift", Role.OPERATOR)
    lookup = partial(_lookup, sessions)

    async def scenario() -> None:
        cache = TokenCache(sessions, check_interval=3600.0, max_staleness=3600.0)
        assert await cache.principal(token, lookup) is not None
        with session_scope(sessions) as session:
            revoke_token(session, "night-shift")
        assert await cache.principal(token, lookup) is None  # no fingerprint read in between

    try:
        asyncio.run(scenario())
    finally:
        engine.dispose()


def test_an_idle_cache_waits_for_a_fresh_check_before_answering(database_url: str) -> None:
    """After a quiet spell longer than MAX_STALENESS_S the first request is not served stale."""
    upgrade_database(database_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        token = add_token(session, "kiosk", Role.MONITOR)
    lookup = partial(_lookup, sessions)
    now = [0.0]

    async def scenario() -> None:
        cache = TokenCache(sessions, clock=lambda: now[0])
        assert await cache.principal(token, lookup) is not None
        subprocess.run([sys.executable, "-c", REVOKE_SCRIPT, database_url, "kiosk"], check=True)
        now[0] += MAX_STALENESS_S  # the service slept; no request came
        assert await cache.principal(token, lookup) is None

    try:
        asyncio.run(scenario())
    finally:
        engine.dispose()


def test_open_streams_ask_the_cache_not_the_database(database_url: str) -> None:
    """A hundred open event streams revalidating their tokens cost one table read per interval,
    not a query each; a revocation elsewhere reaches them, one in this process at once."""
    upgrade_database(database_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        add_token(session, "wall-east", Role.MONITOR)
        add_token(session, "wall-west", Role.MONITOR)
        add_token(session, "night-shift", Role.OPERATOR)
        ids = {row.name: row.id for row in session.query(ApiToken)}
    now = [0.0]

    async def scenario() -> None:
        cache = TokenCache(sessions, clock=lambda: now[0])
        answers = await asyncio.gather(*(cache.still_active(ids["wall-east"]) for _ in range(100)))
        assert answers == [True] * 100 and cache.checks == 1 and cache.lookups == 0
        subprocess.run([sys.executable, "-c", REVOKE_SCRIPT, database_url, "wall-east"], check=True)
        now[0] += MAX_STALENESS_S
        assert await cache.still_active(ids["wall-east"]) is False
        assert await cache.still_active(ids["wall-west"]) is True
        assert cache.checks == 2
        with session_scope(sessions) as session:
            revoke_token(session, "night-shift")
        assert await cache.still_active(ids["night-shift"]) is False  # no clock moved

    try:
        asyncio.run(scenario())
    finally:
        engine.dispose()

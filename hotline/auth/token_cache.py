"""Tokens verified from memory: a request with a known token costs a dict lookup, not a query.

Why: wall screens poll at hundreds of requests per second; one database lookup per request on a
worker thread was the API's ceiling (bench/api_load.py). What keeps the cache honest:

- a revocation in this process (`revoke_token`) drops the token from every cache at once;
- a revocation anywhere else (`hotline token revoke` in another process, another server on the
  same PostgreSQL) changes the table's fingerprint (every column but last_used_at, all rows),
  which is read at most once per `CHECK_INTERVAL_S` in a worker thread; any change empties the
  cache. A request is never answered from a cache whose last fingerprint was read more than
  `MAX_STALENESS_S` earlier: past that it waits for a fresh read (so an idle service that wakes
  up does not honour a token revoked while it slept);
- an entry older than `LAST_USED_RESOLUTION` is looked up again, which also keeps
  api_tokens.last_used_at moving once a minute for tokens in use.

Only known, active tokens are kept (never unknown ones: a caller sending random tokens must not
grow the cache). Imports: hotline.auth and hotline.db only.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import select

from hotline.auth.models import ApiToken
from hotline.auth.principal import Principal
from hotline.auth.tokens import LAST_USED_RESOLUTION, MAX_TOKEN_LENGTH, hash_token
from hotline.db.engine import SessionFactory

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 1.0
MAX_STALENESS_S = 2.0
STATE_KEY = "token_cache"
UNTRACKED_COLUMNS = frozenset({"last_used_at"})
"""Columns whose change does not affect who a token stands for (and that move every minute)."""

Lookup = Callable[[str], Principal | None]
"""The full check of a plaintext token (runs in a worker thread; may raise a Refusal)."""
Clock = Callable[[], float]

_caches: weakref.WeakSet[TokenCache] = weakref.WeakSet()


def forget_token(token_hash: str) -> None:
    """Drop a token from every cache in this process (called by revoke_token)."""
    for cache in list(_caches):
        cache.forget(token_hash)


def _active_ids(fingerprint: Hashable) -> frozenset[int]:
    """The ids of the tokens not revoked, read from a fingerprint's rows."""
    names = [c.name for c in ApiToken.__table__.columns if c.name not in UNTRACKED_COLUMNS]
    id_at, revoked_at = names.index("id"), names.index("revoked_at")
    rows = cast("tuple[tuple[Any, ...], ...]", fingerprint)
    return frozenset(int(row[id_at]) for row in rows if row[revoked_at] is None)


def table_fingerprint(sessions: SessionFactory) -> Hashable:
    """Every row of api_tokens but its last_used_at: what changes when a token is added,
    revoked or rebound (new columns are included without editing this)."""
    columns = [c for c in ApiToken.__table__.columns if c.name not in UNTRACKED_COLUMNS]
    with sessions() as session:
        rows = session.execute(select(*columns).order_by(ApiToken.id)).all()
    return tuple(tuple(row) for row in rows)


@dataclass(frozen=True, slots=True)
class _Entry:
    principal: Principal
    looked_up_at: float


class TokenCache:
    """Principals by token hash, emptied whenever the token table changes."""

    def __init__(self, sessions: SessionFactory, *, check_interval: float = CHECK_INTERVAL_S,
                 max_staleness: float = MAX_STALENESS_S, clock: Clock = time.monotonic) -> None:
        self._sessions = sessions
        self._check_interval = check_interval
        self._max_staleness = max_staleness
        self._entry_ttl = LAST_USED_RESOLUTION.total_seconds()
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._generation = 0
        """Bumped whenever entries are dropped: a lookup begun before must not store its answer."""
        self._fingerprint: Hashable | None = None
        self._active: frozenset[int] = frozenset()
        self._checked_at = float("-inf")
        self._check: asyncio.Task[None] | None = None
        self.lookups = 0
        self.checks = 0
        _caches.add(self)

    def forget(self, token_hash: str) -> None:
        self._entries.pop(token_hash, None)
        self._generation += 1
        self._checked_at = float("-inf")  # open streams learn of the revocation at the next ask

    def clear(self) -> None:
        self._entries.clear()
        self._generation += 1

    async def principal(self, plaintext: str, lookup: Lookup) -> Principal | None:
        """Who `plaintext` stands for; `lookup` (in a worker thread) when the cache cannot say."""
        if not plaintext or len(plaintext) > MAX_TOKEN_LENGTH:
            return None
        await self._keep_current()
        digest = hash_token(plaintext)
        entry = self._entries.get(digest)
        now = self._clock()
        if entry is not None and now - entry.looked_up_at < self._entry_ttl:
            return entry.principal
        generation = self._generation
        self.lookups += 1
        principal = await asyncio.to_thread(lookup, plaintext)
        if principal is None:
            self._entries.pop(digest, None)
        elif generation == self._generation:
            self._entries[digest] = _Entry(principal, now)
        return principal

    async def still_active(self, token_id: int) -> bool | None:
        """Whether a token is still active, from the last table read (one read per interval
        serves every open event stream); None when that read is too old to answer."""
        await self._keep_current()
        if self._fingerprint is None or self._clock() - self._checked_at >= self._max_staleness:
            return None
        return token_id in self._active

    async def _keep_current(self) -> None:
        """Start a fingerprint read when one is due; wait for it when the last is too old."""
        now = self._clock()
        if now - self._checked_at >= self._check_interval and self._check is None:
            self._check = asyncio.create_task(self._read_fingerprint(now), name="token-cache-check")
        if now - self._checked_at >= self._max_staleness and self._check is not None:
            await asyncio.shield(self._check)
            if self._clock() - self._checked_at >= self._max_staleness:
                self.clear()  # the read failed: answer from the database, not from memory

    async def _read_fingerprint(self, started: float) -> None:
        try:
            fingerprint = await asyncio.to_thread(table_fingerprint, self._sessions)
        except Exception as exc:  # the database is away: lookups will say so (503)
            log.warning("token table check failed: %s", exc.__class__.__name__)
            return
        finally:
            self._check = None
        self.checks += 1
        if fingerprint != self._fingerprint:
            if self._fingerprint is not None:
                log.info("api tokens changed: token cache emptied")
            self.clear()
            self._fingerprint = fingerprint
            self._active = _active_ids(fingerprint)
        self._checked_at = started


def token_cache(state: object, sessions: SessionFactory) -> TokenCache:
    """The app's cache (made on first use and kept on app.state)."""
    cache = getattr(state, STATE_KEY, None)
    if cache is None:
        cache = TokenCache(sessions)
        setattr(state, STATE_KEY, cache)
    return cache

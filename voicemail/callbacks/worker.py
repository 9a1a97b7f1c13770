"""The periodic sweep returning expired claims to the queue.

Reads and claims already expire stale claims lazily; the sweep makes the queue right (and the
expiry audited) even when nobody looks at it for a while.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from hotline.db.session import session_scope
from hotline.db.types import utcnow
from hotline.tasks import cancel_and_wait
from voicemail.callbacks.notifier import SILENT, CallbackNotifier
from voicemail.callbacks.service import expire_claims

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30.0


def sweep_once(sessions: sessionmaker[Session], now: datetime) -> list[int]:
    with session_scope(sessions) as session:
        return expire_claims(session, now)


class CallbackSweeper:
    name = "callback-sweeper"

    def __init__(self, sessions: sessionmaker[Session], *, interval: float = SWEEP_SECONDS,
                 clock: Callable[[], datetime] = utcnow, notifier: CallbackNotifier = SILENT) -> None:
        self.sessions = sessions
        self.interval = interval
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self.notifier = notifier

    async def start(self, app: FastAPI) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                expired = await asyncio.to_thread(sweep_once, self.sessions, self.clock())
                if expired:
                    log.info("callback claims expired and returned to the queue: %s", expired)
                    self.notifier.claims_expired()
            except SQLAlchemyError as exc:
                log.warning("callback sweep failed (%s); trying again later",
                            exc.__class__.__name__)
            await asyncio.sleep(self.interval)

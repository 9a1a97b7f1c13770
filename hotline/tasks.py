"""Background asyncio loops: one way to stop them, and the spool workers' pass loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> None:
    """Cancel a background loop and wait until it has unwound; None means not running."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class PassLoop:
    """A pass run at start, whenever woken, and on a timer: the shape of the spool workers.

    The start pass picks up what arrived while the service was down; a wake (an AMI event
    saying a file was written) runs the next pass after `settle` seconds, when Asterisk has
    closed the file; the `sweep` timer is the safety net if a wake is lost. A failed pass is
    logged and the loop goes on: one bad pass never stops the worker.
    """

    def __init__(self, name: str, run_once: Callable[[], Awaitable[object]], *, sweep: float,
                 settle: float, failure: str) -> None:
        self.name = name
        self._run_once = run_once
        self._sweep = sweep
        self._settle = settle
        self._failure = failure
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_error: str | None = None
        """Why the last pass failed (None after one that did not): shown in /api/health."""

    def wake(self) -> None:
        """Run the next pass soon (on the event loop's thread)."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self._run_once()
                self.last_error = None
            except Exception as exc:
                self.last_error = f"{exc.__class__.__name__}: {exc}"
                log.exception("%s", self._failure)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._sweep):
                    await self._wake.wait()
            if self._wake.is_set():
                self._wake.clear()
                await asyncio.sleep(self._settle)

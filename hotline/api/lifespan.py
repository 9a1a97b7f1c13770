"""Start and stop the long-running parts of the service with the application.

`hotline serve` passes the components (the AMI bridge, the voicemail workers, ...) to
`create_app(components=...)`. They start in order after the app is built and stop in reverse
order at shutdown; if one fails to start, those already started are stopped and the server
refuses to come up rather than run half-wired.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol, runtime_checkable

from fastapi import FastAPI

log = logging.getLogger(__name__)


@runtime_checkable
class Component(Protocol):
    """A part of the service that runs for the lifetime of the app."""

    name: str

    async def start(self, app: FastAPI) -> None:
        """Begin work; may read app.state (config, sessionmaker) and publish its own state."""

    async def stop(self) -> None:
        """Finish work; called once, even if the app is shutting down after an error."""


async def _stop_all(started: list[Component]) -> None:
    for component in reversed(started):
        try:
            await component.stop()
            log.info("stopped %s", component.name, extra={"component": component.name})
        except Exception:
            log.exception("stopping %s failed", component.name,
                          extra={"component": component.name})


def make_lifespan(components: Sequence[Component],
                  ) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started: list[Component] = []
        try:
            for component in components:
                await component.start(app)
                started.append(component)
                log.info("started %s", component.name, extra={"component": component.name})
        except BaseException:
            log.exception("startup failed; stopping what had started")
            await _stop_all(started)
            app.state.engine.dispose()
            raise
        try:
            yield
        finally:
            await _stop_all(started)
            app.state.engine.dispose()

    return lifespan

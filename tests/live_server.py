"""Serve an ASGI app with real uvicorn on a free loopback port, in a background thread.

For tests that need a real HTTP server (streams, browsers) rather than the in-process client.
`run_in_server_loop` runs a coroutine on the server's own event loop, where the app's state lives.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
LOOPBACK = "127.0.0.1"
GRACEFUL_SHUTDOWN_S = 1  # open event streams never end by themselves
T = TypeVar("T")


class LiveServer:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Bound here, before the server starts, so no other process can take the port meanwhile.
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind((LOOPBACK, 0))
        self.port: int = self.socket.getsockname()[1]
        self.base_url = f"http://{LOOPBACK}:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", ws="none",
                                                    access_log=False,
                                                    timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S))
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="live-server", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(self.server.serve(sockets=[self.socket]))
        except BaseException as exc:  # reported by start()/stop()
            self._error = exc

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"uvicorn did not start: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start within {START_TIMEOUT_S} s")
            time.sleep(0.02)
        return self

    def run_in_server_loop(self, coroutine: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(STOP_TIMEOUT_S)
        self.socket.close()
        if self._thread.is_alive():
            raise RuntimeError("uvicorn did not stop in time")

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

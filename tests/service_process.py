"""`hotline serve` as a real process, and a TCP proxy that can cut the AMI link on demand."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hotline.auth import Role, add_token
from hotline.config import HotlineConfig
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database

START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0


class ServiceProcess:
    def __init__(self, config: HotlineConfig, log_path: Path) -> None:
        self.config = config
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self.tokens: dict[Role, str] = {}
        self.base_url = f"http://{config.api.bind}:{config.api.port}"
        self.extra_args: list[str] = []  # e.g. --port and --node-id for one of several nodes
        self.start_timeout = START_TIMEOUT_S

    def make_tokens(self) -> None:
        upgrade_database(self.config)
        engine = make_engine(self.config.database.url)
        try:
            with session_scope(make_session_factory(engine)) as session:
                for role in Role:
                    # The suite's generic operator is a declared team lead: it acts for every seat.
                    self.tokens[role] = add_token(session, f"test-{role.value}-{time.monotonic_ns()}", role,
                                                  team_lead=role is Role.OPERATOR)
        finally:
            engine.dispose()

    def headers(self, role: Role = Role.ADMIN) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def start_background(self) -> None:
        """Launch `hotline serve` without waiting for it."""
        if not self.tokens:
            self.make_tokens()
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hotline.cli", "-c", str(self.config.path), "serve",
             "--log-format", "human", "--log-level", "debug", *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    async def start(self) -> None:
        self.start_background()
        assert self.process is not None
        deadline = time.monotonic() + self.start_timeout
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"hotline serve exited:\n{self.log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    health = await client.get("/api/health", headers=self.headers())
                    if health.status_code == 200 and health.json()["ami"]["connected"]:
                        return
                await asyncio.sleep(0.1)
        self.stop()  # a caller whose start failed never reaches its own stop(): leave nothing running
        raise RuntimeError(f"hotline serve did not connect to the PBX in time:\n{self.log_tail()}")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


class TcpProxy:
    """Forwards 127.0.0.1:listen_port to a target; `cut()` drops every live connection.
    Keeps every byte each way in `received` (from the target) and `sent` (to it), which is how
    the AMI recorder (tests/record_ami.py) writes its captures."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.received = bytearray()
        self.sent = bytearray()
        self.server: asyncio.base_events.Server | None = None
        self.port = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self.connections = 0

    async def start(self, port: int = 0) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    kept: bytearray) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                kept += data
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer, self.sent),
                             self._pipe(up_reader, writer, self.received))
        self._writers -= {writer, up_writer}

    def cut(self) -> None:
        for writer in list(self._writers):
            transport = writer.transport
            transport.abort()
        self._writers.clear()

    async def stop(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

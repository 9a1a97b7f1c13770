"""GET /api/status and GET /api/seats under load from a second process on loopback, with the
hall busy (50 seats, 20 calls in progress): p50 and p99 against a baseline measured in the
same run. Target: p99 under 20 ms.

Run by hand:

    .venv/bin/python bench/api_load.py [--rate 200] [--seconds 20] [--routes /api/status,/api/seats]
        [--sse-clients 100] [--closed-loop-seconds 5] [--closed-loop-connections 8]

The service is the real one: `python -m hotline.cli -c <tmp>/hotline.conf serve` in a
subprocess, as deployed (json logs at info, one line per request), with hotline.conf's hall and
its own SQLite database in a temporary folder, and a monitor token (what a wallboard holds).

Its AMI bridge talks to a replay server in this process (bench/busy_hall.py on top of
bench/state_latency.py's fake Asterisk, itself the shipped replay client of
telephony/ami/testing.py; a benchmark needs a PBX whose picture it controls, a
real Asterisk cannot be made to hold 20 calls on demand). It answers the bridge's resync with
every seat registered and logged in to the queue and 20 of them talking to a citizen, then
keeps a trickle of queue calls coming in and ending (--events-per-s) so the bridge works while
the API is read. Before measuring, the API must show the seats and the calls (or the run fails).

The load comes from two more processes (multiprocessing, spawn). One opens --sse-clients
`/api/events` streams (what wall screens and consoles hold) and keeps reading them until the
end. The other, the generator: asyncio, a hand-written HTTP/1.1 client (see RawClient), keep-
alive connections, an open-loop schedule at --rate to each route under test (request i is due at
i/total rate; a slow answer does not delay the next request) and every latency measured from the
moment the request was due, so queueing shows. After a warm-up, blocks of --block seconds
alternate between the routes under test (requested in turn) and the baseline, GET /api/me
(authentication only), at the same rate, so both see the same machine. Last, a closed loop:
--closed-loop-connections connections each send GET /api/status as soon as their last answer
arrived, streams still open. Targets: p99 < 20 ms, >= 1,000 answers/s closed loop. The last line is exactly:

    rps=N p50_ms=A p99_ms=B sse_clients=S closed_loop_rps=C

N, A, B over the routes under test together (N: their answers per second while their blocks
ran), S the streams still open at the end, C the closed loop's answers per second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final

import httpx
import state_latency
from busy_hall import BusyHall
from state_latency import MS, FakeAsterisk, free_port, percentile

from hotline.auth import Role, add_token
from hotline.config import HotlineConfig, load_config
from hotline.config.ini import write_overrides
from hotline.config.secrets import write_demo_secrets
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from seat_manager.service import build_directory

REPO: Final = Path(__file__).resolve().parents[1]
CONFIG_PATH: Final = REPO / "hotline.conf"
SECRETS_PATH: Final = REPO / "hotline.secrets"
DEFAULT_RATE: Final = 200.0
DEFAULT_SECONDS: Final = 20.0
"""Measured seconds per condition (routes under test, baseline)."""
DEFAULT_WARMUP: Final = 5.0
DEFAULT_BLOCK: Final = 2.0
DEFAULT_CALLS: Final = 20
DEFAULT_EVENTS_PER_S: Final = 20.0
DEFAULT_ROUTES: Final = ("/api/status", "/api/seats")
BASELINE_ROUTE: Final = "/api/me"
TARGET_P99_MS: Final = 20.0
CONNECTIONS: Final = 32
"""Keep-alive connections the generator may open; at 200 req/s and a few ms per answer two
would do, the rest absorb stalls without changing the schedule."""
HTTP_TIMEOUT_S: Final = 5.0
READY_TIMEOUT_S: Final = 30.0
STOP_TIMEOUT_S: Final = 10.0
SETTLE_S: Final = 0.5
START_DELAY_S: Final = 0.2
"""The generator's schedule starts this long after its client is ready."""
LAG_WARNING_MS: Final = 2.0
"""Above this p99 of (sent - due), the generator itself could not keep the schedule."""
SEED: Final = 20261128
TOKEN_NAME: Final = "bench-api-load"
TEMP_PREFIX: Final = "hotline-api-load-"
CONDITION_ROUTES: Final = "routes"
CONDITION_BASELINE: Final = "baseline"
CONDITION_WARMUP: Final = "warmup"
CONTENT_LENGTH: Final = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")
DEFAULT_SSE_CLIENTS: Final = 100
DEFAULT_CLOSED_LOOP_S: Final = 5.0
DEFAULT_CLOSED_LOOP_CONNECTIONS: Final = 8
CLOSED_LOOP_ROUTE: Final = "/api/status"
TARGET_CLOSED_LOOP_RPS: Final = 1000.0
TRANSPORT_ERROR: Final = 0
"""The status recorded for a request that got no HTTP answer."""


# ----- the service under test -------------------------------------------------------------------


def prepare_hall(workdir: Path, ami_port: int) -> tuple[HotlineConfig, str]:
    """The temporary hall: config, secrets, folders, migrated database, a monitor token."""
    overrides = {
        "ami.host": "127.0.0.1", "ami.port": str(ami_port),
        "database.url": f"sqlite:///{workdir / 'hotline.db'}",
        "api.bind": "127.0.0.1", "api.port": str(free_port()),
        "voicemail.spool": str(workdir / "spool"), "voicemail.archive": str(workdir / "archive"),
    }
    config_path = workdir / "hotline.conf"
    shutil.copy(CONFIG_PATH, config_path)
    shutil.copy(CONFIG_PATH.parent / "remit.conf", workdir / "remit.conf")
    write_overrides(config_path, overrides)
    if SECRETS_PATH.exists():
        shutil.copy(SECRETS_PATH, workdir / SECRETS_PATH.name)
    else:
        write_demo_secrets(config_path)
    for folder in ("spool", "archive"):
        (workdir / folder).mkdir(exist_ok=True)
    config = load_config(config_path)
    upgrade_database(config)
    engine = make_engine(config.database.url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            token = add_token(session, TOKEN_NAME, Role.MONITOR)
    finally:
        engine.dispose()
    return config, token


class ServiceProcess(state_latency.ServiceProcess):
    """`hotline serve` on the temporary hall, as an administrator would run it (the rest,
    stopping and reading the log, as state_latency's)."""

    def __init__(self, config: HotlineConfig, log_path: Path) -> None:
        super().__init__({}, log_path)
        self.config = config

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hotline.cli", "-c", str(self.config.path), "serve"],
                cwd=self.config.path.parent, stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"})

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


# ----- the trickle of AMI events ------------------------------------------------------------------


class Trickle:
    """Writes the hall's turnovers to the bridge one frame every 1/rate s; `stop` finishes the
    turnover under way, so the hall is back to its number of calls."""

    def __init__(self, server: FakeAsterisk, turnovers: Iterator[list[bytes]]) -> None:
        self.server = server
        self.turnovers = turnovers
        self.sent = 0
        self.done = 0
        self.seconds = 0.0
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self, rate: float) -> None:
        if rate > 0:
            self._task = asyncio.create_task(self._run(1.0 / rate), name="ami-trickle")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self, interval: float) -> None:
        started = due = time.perf_counter()
        try:
            while not self._stopping:
                for data in next(self.turnovers):
                    if not self._stopping:  # once stopping, the rest of the turnover goes at once
                        await asyncio.sleep(max(0.0, due - time.perf_counter()))
                        due += interval
                    self.server.write(data)
                    self.sent += 1
                self.done += 1
        finally:
            self.seconds += time.perf_counter() - started


# ----- checking what the API shows ---------------------------------------------------------------


@dataclass(frozen=True)
class HallShown:
    seats: int
    on_call: int
    calls: int
    bridged_calls: int
    status: dict[str, Any] | None

    def describe(self) -> str:
        text = (f"GET /api/seats: {self.seats} seats, {self.on_call} on_call; GET /api/calls: "
                f"{self.calls} calls ({self.bridged_calls} citizen+seat bridged)")
        if self.status is not None:
            text += (f"; GET /api/status: seats.total={self.status['seats']['total']}, "
                     f"calls.in_progress={self.status['calls']['in_progress']}")
        return text

    def problems(self, seats: int, calls: int) -> list[str]:
        found = []
        if self.seats != seats:
            found.append(f"{self.seats} seats instead of {seats}")
        if self.on_call != calls or self.calls != calls or self.bridged_calls != calls:
            found.append(f"{self.on_call} seats on_call, {self.calls} calls, {self.bridged_calls} bridged "
                         f"instead of {calls}")
        if self.status is not None and (self.status["seats"]["total"] != seats
                                        or self.status["calls"]["in_progress"] != calls):
            found.append(f"/api/status says {self.status['seats']['total']} seats and "
                         f"{self.status['calls']['in_progress']} calls")
        return found


async def hall_shown(client: httpx.AsyncClient) -> HallShown:
    seats = (await client.get("/api/seats")).raise_for_status().json()
    calls = (await client.get("/api/calls")).raise_for_status().json()["calls"]
    status_response = await client.get("/api/status")
    status = status_response.json() if status_response.status_code == httpx.codes.OK else None
    bridged = sum(1 for call in calls
                  if len(call["channels"]) == 2 and all(c["bridge_id"] for c in call["channels"]))
    return HallShown(len(seats), sum(1 for seat in seats if seat["state"] == "on_call"), len(calls),
                     bridged, status)


async def wait_ready(client: httpx.AsyncClient, service: ServiceProcess, seats: int, calls: int) -> float:
    """Until the API shows the replayed hall (login and resync done); how long that took."""
    started = time.perf_counter()
    shown: HallShown | None = None
    while time.perf_counter() - started < READY_TIMEOUT_S:
        service.check_alive()
        with contextlib.suppress(httpx.TransportError, httpx.HTTPStatusError):
            shown = await hall_shown(client)
            if not shown.problems(seats, calls):
                return time.perf_counter() - started
        await asyncio.sleep(0.1)
    seen = shown.describe() if shown else "no answer"
    raise RuntimeError(f"the API did not show {seats} seats and {calls} calls within {READY_TIMEOUT_S:g} s "
                       f"({seen}):\n{service.log_tail()}")


async def check_hall(client: httpx.AsyncClient, seats: int, calls: int, when: str) -> str:
    shown = await hall_shown(client)
    problems = shown.problems(seats, calls)
    if problems:
        raise RuntimeError(f"{when}: the service does not show the hall: {'; '.join(problems)} "
                           f"({shown.describe()})")
    return shown.describe()


# ----- the load generator (second process) --------------------------------------------------------


@dataclass(frozen=True)
class LoadPlan:
    base_url: str
    token: str
    rate: float
    routes: tuple[str, ...]
    baseline: str
    warmup_s: float
    seconds: float
    block_s: float
    connections: int
    sse_clients: int
    closed_loop_route: str
    closed_loop_s: float
    closed_loop_connections: int


@dataclass(frozen=True)
class Sample:
    condition: str
    route: str
    block: int
    due: float
    sent: float
    answered: float
    status: int

    @property
    def latency_ms(self) -> float:
        """From when the request was due (open loop: generator lag and queueing count)."""
        return (self.answered - self.due) * MS

    @property
    def lag_ms(self) -> float:
        return (self.sent - self.due) * MS


def offered_rate(plan: LoadPlan) -> float:
    """Requests per second in every block: --rate to each route under test, and as many to the
    baseline in its blocks, so both conditions load the machine alike."""
    return plan.rate * len(plan.routes)


Slot = tuple[float, str, str, int]
"""(due offset s, condition, route, block number; WARMUP_BLOCK during the warm-up)."""
WARMUP_BLOCK: Final = -1


def schedule(plan: LoadPlan) -> list[Slot]:
    """Every request in order: when it is due, under which condition, to which route."""
    rate = offered_rate(plan)
    interval = 1.0 / rate
    slots: list[Slot] = []
    mixed = [*plan.routes, plan.baseline]
    for index in range(int(plan.warmup_s * rate)):
        slots.append((index * interval, CONDITION_WARMUP, mixed[index % len(mixed)], WARMUP_BLOCK))
    start = plan.warmup_s
    per_block = round(plan.block_s * rate)
    blocks = 2 * math.ceil(plan.seconds / plan.block_s)
    turn = 0
    for block in range(blocks):
        condition = CONDITION_ROUTES if block % 2 == 0 else CONDITION_BASELINE
        for index in range(per_block):
            offset = start + (block * per_block + index) * interval
            if condition == CONDITION_ROUTES:
                route = plan.routes[turn % len(plan.routes)]
                turn += 1
            else:
                route = plan.baseline
            slots.append((offset, condition, route, block))
    return slots


SampleRow = tuple[str, str, int, float, float, float, int]
"""A Sample as plain values: what crosses the process boundary (classes of a script do not)."""


class RawPool:
    """Up to `size` keep-alive RawClient connections; a request waits for a free one (so a slow
    service shows as queueing, measured from the due time)."""

    def __init__(self, plan: LoadPlan) -> None:
        self.plan = plan
        self.host, self.port = _host_port(plan)
        self.free: asyncio.Queue[RawClient] = asyncio.Queue()
        self.opened = 0

    async def get(self, route: str) -> int:
        if self.free.empty() and self.opened < self.plan.connections:
            self.opened += 1
            client = RawClient(self.host, self.port, self.plan.token)
            await client.open()
        else:
            client = await self.free.get()
        try:
            status = await asyncio.wait_for(client.get(client.request(route)), HTTP_TIMEOUT_S)
        except BaseException:
            self.opened -= 1  # a connection in an unknown state is not reused
            await client.close()
            raise
        self.free.put_nowait(client)
        return status

    async def close(self) -> None:
        while not self.free.empty():
            await self.free.get_nowait().close()


async def drive(plan: LoadPlan) -> list[SampleRow]:
    """Send every request of the schedule when it is due, without waiting for earlier answers."""
    samples: list[SampleRow] = []
    pool = RawPool(plan)

    async def one(due: float, condition: str, route: str, block: int) -> None:
        sent = time.perf_counter()
        try:
            status = await pool.get(route)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, RuntimeError):
            status = TRANSPORT_ERROR
        samples.append((condition, route, block, due, sent, time.perf_counter(), status))

    tasks = []
    origin = time.perf_counter() + START_DELAY_S
    try:
        for offset, condition, route, block in schedule(plan):
            due = origin + offset
            wait = due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(one(due, condition, route, block)))
        await asyncio.gather(*tasks)
    finally:
        await pool.close()
    return samples


class RawClient:
    """One keep-alive HTTP/1.1 connection spoken by hand: httpx cost the generator so much CPU
    per request that at 400 requests/s on a busy 2-core machine it, not the service, fell
    minutes behind."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port, self.token = host, port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def request(self, path: str, accept: str = "application/json") -> bytes:
        return (f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept: {accept}\r\n"
                f"Authorization: Bearer {self.token}\r\n\r\n").encode()

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self.reader, self.writer

    async def get(self, request: bytes) -> int:
        """Send one request, read its whole answer (Content-Length); the status."""
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = CONTENT_LENGTH.search(head)
        if length is None:
            raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")
        await self.reader.readexactly(int(length.group(1)))
        return int(head[9:12])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()


@dataclass
class Streams:
    """The open /api/events streams: how many answered 200, how many frames they received."""

    connected: int = 0
    frames: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


async def open_streams(plan: LoadPlan, host: str, port: int) -> Streams:
    """`plan.sse_clients` event streams, each on its own connection, read until cancelled."""
    streams = Streams()
    ready = asyncio.Event()

    async def one(client: RawClient) -> None:
        reader, writer = await client.open()
        try:
            writer.write(client.request("/api/events", "text/event-stream"))
            head = await reader.readuntil(b"\r\n\r\n")
            if head[9:12] == b"200":
                streams.connected += 1
            if streams.connected == plan.sse_clients:
                ready.set()
            while chunk := await reader.read(65536):
                streams.frames += chunk.count(b"\nevent: ") + chunk.startswith(b"event: ")
        finally:
            await client.close()

    for _ in range(plan.sse_clients):
        streams.tasks.append(asyncio.create_task(one(RawClient(host, port, plan.token))))
    if plan.sse_clients:
        await asyncio.wait_for(ready.wait(), READY_TIMEOUT_S)
    return streams


async def close_streams(streams: Streams) -> int:
    """Stop reading; how many streams were still open (not ended by the service)."""
    still_open = sum(1 for task in streams.tasks if not task.done())
    for task in streams.tasks:
        task.cancel()
    await asyncio.gather(*streams.tasks, return_exceptions=True)
    return still_open


async def closed_loop(plan: LoadPlan, host: str, port: int) -> tuple[int, int, float]:
    """Each connection sends its next request as soon as the last is answered; (answers,
    errors, seconds)."""
    clients = [RawClient(host, port, plan.token) for _ in range(plan.closed_loop_connections)]
    request = clients[0].request(plan.closed_loop_route)
    counts = [0, 0]
    started = time.perf_counter()
    end = started + plan.closed_loop_s

    async def one(client: RawClient) -> None:
        await client.open()
        try:
            while time.perf_counter() < end:
                counts[0 if await client.get(request) == httpx.codes.OK else 1] += 1
        finally:
            await client.close()

    await asyncio.gather(*(one(client) for client in clients))
    return counts[0], counts[1], time.perf_counter() - started


GeneratorResult = tuple[list[SampleRow], int, int, float]
"""(samples, closed-loop answers, errors, seconds)."""


def _host_port(plan: LoadPlan) -> tuple[str, int]:
    url = httpx.URL(plan.base_url)
    return url.host, url.port or 80


async def generate(plan: LoadPlan) -> GeneratorResult:
    """The open-loop schedule, then the closed loop."""
    host, port = _host_port(plan)
    samples = await drive(plan)
    answers, errors, seconds = (await closed_loop(plan, host, port)) if plan.closed_loop_s > 0 \
        else (0, 0, 0.0)
    return samples, answers, errors, seconds


def load_process(plan: LoadPlan, results: Connection) -> None:
    """The second process: run the plan, send the results back (or the error)."""
    try:
        results.send(asyncio.run(generate(plan)))
    except BaseException as exc:
        results.send(RuntimeError(f"load generator failed: {exc!r}"))
        raise
    finally:
        results.close()


async def hold_streams(plan: LoadPlan, control: Connection) -> None:
    """Open the streams, say "ready", read them until told to stop, send (still open, frames)."""
    streams = await open_streams(plan, *_host_port(plan))
    control.send("ready")
    try:
        await asyncio.to_thread(control.recv)
    finally:
        still_open = await close_streams(streams)
    control.send((still_open, streams.frames))


def streams_process(plan: LoadPlan, control: Connection) -> None:
    """The third process: the event streams, apart so that reading their frames does not delay
    the generator's schedule."""
    try:
        asyncio.run(hold_streams(plan, control))
    except BaseException as exc:
        control.send(RuntimeError(f"event streams failed: {exc!r}"))
        raise
    finally:
        control.close()


@dataclass(frozen=True)
class LoadResult:
    samples: list[Sample]
    generator_pid: int
    sse_open: int
    sse_frames: int
    closed_answers: int
    closed_errors: int
    closed_seconds: float

    @property
    def closed_loop_rps(self) -> float:
        return self.closed_answers / self.closed_seconds if self.closed_seconds else 0.0


def _received(connection: Connection, who: str, process: multiprocessing.process.BaseProcess) -> Any:
    try:
        result = connection.recv()
    except EOFError:
        raise RuntimeError(f"the {who} died (exit code {process.exitcode})") from None
    if isinstance(result, BaseException):
        raise result
    return result


async def run_load(plan: LoadPlan) -> LoadResult:
    """Open the streams (a third process), run the generator, close the streams; the results."""
    context = multiprocessing.get_context("spawn")
    control, their_control = context.Pipe(duplex=True)
    streams = context.Process(target=streams_process, args=(plan, their_control), name="api-load-streams")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=load_process, args=(plan, sender), name="api-load-generator")
    streams.start()
    their_control.close()
    try:
        await asyncio.to_thread(_received, control, "event streams process", streams)
        process.start()
        sender.close()  # ours: so recv() fails instead of hanging if the generator dies
        try:
            rows, answers, errors, seconds = await asyncio.to_thread(_received, receiver, "load generator",
                                                                     process)
        finally:
            await asyncio.to_thread(process.join, STOP_TIMEOUT_S)
            receiver.close()
        control.send("stop")
        still_open, frames = await asyncio.to_thread(_received, control, "event streams process", streams)
    finally:
        await asyncio.to_thread(streams.join, STOP_TIMEOUT_S)
        control.close()
    assert process.pid is not None
    return LoadResult([Sample(*row) for row in rows], process.pid, still_open, frames, answers, errors,
                      seconds)


# ----- the report ---------------------------------------------------------------------------------


@dataclass
class Figures:
    """Latencies (ms, from due time) of one group of answers."""

    label: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def latencies(self) -> list[float]:
        return sorted(s.latency_ms for s in self.samples)

    def p(self, q: int) -> float:
        return percentile(self.latencies, q)

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if s.status != httpx.codes.OK)

    def line(self) -> str:
        values = self.latencies
        return (f"{self.label:<22} n={len(values):<6} p50={self.p(50):7.2f}  p90={self.p(90):7.2f}  "
                f"p99={self.p(99):7.2f}  max={values[-1]:7.2f} ms  errors={self.errors}")


def answered_rate(samples: list[Sample], plan: LoadPlan) -> float:
    """Answers per second: each block counts from its first due time until its last answer (or
    its end, if the service kept up), so a service that falls behind shows a lower rate."""
    by_block: dict[int, list[Sample]] = {}
    for sample in samples:
        by_block.setdefault(sample.block, []).append(sample)
    seconds = sum(max(max(s.answered for s in block), min(s.due for s in block) + plan.block_s)
                  - min(s.due for s in block) for block in by_block.values())
    return len(samples) / seconds if seconds else 0.0


def report(result: LoadResult, plan: LoadPlan, emit: Callable[[str], None]) -> int:
    """Per route, baseline, ratios, achieved rates, streams, closed loop; the summary line last.
    Exit status."""
    samples = result.samples
    measured = [s for s in samples if s.condition != CONDITION_WARMUP]
    routes = [s for s in measured if s.condition == CONDITION_ROUTES]
    baseline = Figures(f"baseline {plan.baseline}",
                       [s for s in measured if s.condition == CONDITION_BASELINE])
    together = Figures("routes together", routes)
    per_route = [Figures(route, [s for s in routes if s.route == route]) for route in plan.routes]
    emit("latency from the due time of each request (open loop), after the warm-up:")
    for figures in (*per_route, together, baseline):
        emit("  " + figures.line())
    base50, base99 = baseline.p(50), baseline.p(99)
    ratios = ", ".join(f"{f.label} p50 {f.p(50) / base50:.2f}x p99 {f.p(99) / base99:.2f}x"
                       for f in (*per_route, together))
    emit(f"ratio to the baseline: {ratios}")
    rps = answered_rate(routes, plan)
    lag = percentile(sorted(s.lag_ms for s in measured), 99)
    per_route_rates = ", ".join(f"{f.label} {answered_rate(f.samples, plan):.1f}" for f in per_route)
    emit(f"offered: {plan.rate:g} req/s to each route under test ({offered_rate(plan):g} req/s in their "
         f"blocks), {offered_rate(plan):g} req/s to the baseline in its blocks")
    emit(f"achieved: routes {rps:.1f} answers/s ({per_route_rates}), baseline "
         f"{answered_rate(baseline.samples, plan):.1f} answers/s; generator lag p99 {lag:.2f} ms")
    emit(f"event streams: {result.sse_open} of {plan.sse_clients} still open at the end, "
         f"{result.sse_frames} frames received")
    closed = result.closed_loop_rps
    emit(f"closed loop: {plan.closed_loop_route} on {plan.closed_loop_connections} connections for "
         f"{result.closed_seconds:.1f} s: {result.closed_answers} answers, {closed:.0f} answers/s, "
         f"{result.closed_errors} errors (target >= {TARGET_CLOSED_LOOP_RPS:g}: "
         f"{'met' if closed >= TARGET_CLOSED_LOOP_RPS else 'NOT met'})")
    failed = together.errors + baseline.errors + result.closed_errors
    if lag > LAG_WARNING_MS:
        emit(f"WARNING: the generator ran up to {lag:.1f} ms late (p99): the figures include its own delay")
    if failed:
        statuses = sorted({s.status for s in measured if s.status != httpx.codes.OK})
        emit(f"WARNING: {failed} requests failed (statuses {statuses}; {TRANSPORT_ERROR} = no answer)")
    p50, p99 = together.p(50), together.p(99)
    verdict = "met" if p99 < TARGET_P99_MS else "NOT met"
    emit(f"target p99 < {TARGET_P99_MS:g} ms: {verdict}")
    emit(f"rps={rps:.1f} p50_ms={p50:.2f} p99_ms={p99:.2f} sse_clients={result.sse_open} "
         f"closed_loop_rps={closed:.0f}")
    return 1 if failed or result.sse_open < plan.sse_clients else 0


# ----- the run ------------------------------------------------------------------------------------


async def measure(args: argparse.Namespace, workdir: Path, emit: Callable[[str], None]) -> int:
    """Start everything, check the hall, run the load, report; always stop what it started."""
    hall_config = load_config(CONFIG_PATH)
    seats = list(build_directory(hall_config))
    hall = BusyHall(seats, hall_config.queue.name, args.calls, SEED)
    server = FakeAsterisk(hall)  # BusyHall answers actions as state_latency's HallScript does
    await server.start()
    try:
        config, token = prepare_hall(workdir, server.port)
        plan = LoadPlan(f"http://{config.api.bind}:{config.api.port}", token, args.rate, tuple(args.routes),
                        BASELINE_ROUTE, args.warmup, args.seconds, args.block, CONNECTIONS,
                        args.sse_clients, CLOSED_LOOP_ROUTE, args.closed_loop_seconds,
                        args.closed_loop_connections)
        service = ServiceProcess(config, workdir / "service.log")
        try:
            result = await run_against(service, server, hall, plan, args, emit)
        finally:
            await asyncio.to_thread(service.stop)  # the replay server must stay up to answer Logoff
    finally:
        await server.stop()
    return report(result, plan, emit)


async def run_against(service: ServiceProcess, server: FakeAsterisk, hall: BusyHall, plan: LoadPlan,
                      args: argparse.Namespace, emit: Callable[[str], None]) -> LoadResult:
    """The service started, the hall checked before and after, the load run with the trickle."""
    seats = len(hall.seats)
    client = httpx.AsyncClient(base_url=plan.base_url, trust_env=False, timeout=HTTP_TIMEOUT_S,
                               headers={"Authorization": f"Bearer {plan.token}"})
    trickle = Trickle(server, iter(()))
    try:
        service.start()
        emit(f"hall: {seats} seats from {CONFIG_PATH.name}, {args.calls} calls in progress; "
             f"AMI replay on 127.0.0.1:{server.port}; `hotline serve` pid {service.pid} on {plan.base_url}")
        await asyncio.wait_for(server.logged_in.wait(), READY_TIMEOUT_S)
        ready = await wait_ready(client, service, seats, args.calls)
        emit(f"bridge ready in {ready:.1f} s; Events mask {server.events_mask!r}; actions answered "
             f"{dict(sorted(server.actions.items()))}")
        emit(f"before: {await check_hall(client, seats, args.calls, 'before the load')}")
        trickle = Trickle(server, hall.turnovers(server.events_mask))
        trickle.start(args.events_per_s)
        emit(f"load: {plan.sse_clients} /api/events streams held open; {offered_rate(plan):g} req/s open "
             f"loop from a second process, up to {plan.connections} keep-alive connections; "
             f"{plan.warmup_s:g} s warm-up, then {plan.block_s:g} s blocks alternating "
             f"{', '.join(plan.routes)} (in turn) and {plan.baseline}, {plan.seconds:g} s each; then "
             f"{plan.closed_loop_route} in a closed loop for {plan.closed_loop_s:g} s")
        result = await run_load(plan)
        await trickle.stop()
        achieved = trickle.sent / trickle.seconds if trickle.seconds else 0.0
        emit(f"generator pid {result.generator_pid}; trickle: {trickle.sent} AMI events at "
             f"{achieved:.1f} events/s ({trickle.done} calls answered and ended)")
        await asyncio.sleep(SETTLE_S)
        service.check_alive()
        emit(f"after: {await check_hall(client, seats, args.calls, 'after the load')}")
        return result
    finally:
        await trickle.stop()
        await client.aclose()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE,
                        help="requests per second offered to each route under test")
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS,
                        help="measured seconds per condition (routes, baseline)")
    parser.add_argument("--warmup", type=float, default=DEFAULT_WARMUP, help="seconds before measuring")
    parser.add_argument("--block", type=float, default=DEFAULT_BLOCK,
                        help="seconds per block; blocks alternate routes and baseline")
    parser.add_argument("--routes", type=lambda text: [r.strip() for r in text.split(",") if r.strip()],
                        default=list(DEFAULT_ROUTES), help="comma-separated GET routes, requested in turn")
    parser.add_argument("--calls", type=int, default=DEFAULT_CALLS, help="calls in progress in the hall")
    parser.add_argument("--events-per-s", type=float, default=DEFAULT_EVENTS_PER_S,
                        help="AMI events per second while measuring (0: a quiet hall)")
    parser.add_argument("--sse-clients", type=int, default=DEFAULT_SSE_CLIENTS,
                        help="/api/events streams held open through the run")
    parser.add_argument("--closed-loop-seconds", type=float, default=DEFAULT_CLOSED_LOOP_S,
                        help=f"seconds of {CLOSED_LOOP_ROUTE} in a closed loop at the end (0: none)")
    parser.add_argument("--closed-loop-connections", type=int, default=DEFAULT_CLOSED_LOOP_CONNECTIONS,
                        help="connections of the closed loop, each waiting for its answer")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the database and the service log here (default: a temp dir)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.rate <= 0 or args.seconds <= 0 or args.block <= 0 or args.warmup < 0 or not args.routes:
        raise SystemExit("--rate, --seconds and --block must be positive, --routes not empty")
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=TEMP_PREFIX)))
        workdir.mkdir(parents=True, exist_ok=True)
        return asyncio.run(measure(args, workdir, lambda line: print(line, flush=True)))


if __name__ == "__main__":
    sys.exit(main())

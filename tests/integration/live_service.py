"""One sandbox PBX and one real `hotline serve` per test module, with named tokens, and readers
for what the service streams (`/api/events`) and exposes to scrapers (`/metrics`).

Shared by the live status tests and the browser tests: both watch the same service a citizen
calls through, and both need the stream and the figures as the service really serves them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hotline.auth import Role, add_token
from hotline.db import make_engine, make_session_factory, session_scope
from tests.hall_pbx import HallPbx, instance_name, start_hall_pbx
from tests.integration.harness import Api, wait_for
from tests.service_process import ServiceProcess

# Short entry prompts: the call reaches the queue seconds after it starts instead of after the full
# Mandarin greeting; the dialplan (greeting, 工号 prompt, its timeout, the queue) is unchanged.
SHORT_PROMPTS = {"prompts.greeting": "您好。", "prompts.named_operator": "请稍候。"}
ENTRY_S = 30.0  # from the citizen's call to the seat ringing, with room for a loaded machine
STREAM_CONNECT_S = 10.0
STREAM_WAIT_S = 10.0
SAMPLE_RE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>[^}]*)\})?\s+(?P<value>\S+)")
LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class LiveService:
    """A running sandbox PBX and `hotline serve` on its configuration, with tokens by name."""

    pbx: HallPbx
    service: ServiceProcess
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.service.base_url

    def api(self, who: Role | str = Role.ADMIN) -> Api:
        """The API as one of the service's role tokens (a Role) or one of the named tokens."""
        headers = self.service.headers(who) if isinstance(who, Role) else bearer(self.tokens[who])
        return Api(self.base_url, headers)

    def token(self, who: Role | str) -> str:
        return self.service.tokens[who] if isinstance(who, Role) else self.tokens[who]

    def stop(self) -> None:
        try:
            self.service.stop()
        finally:
            self.pbx.stop()


@contextlib.contextmanager
def live_service(tag: str, work: Path, overrides: Mapping[str, str] | None = None, *,
                 named_tokens: Mapping[str, Role] | None = None, pjsip_local: str = "",
                 extra_secrets: str = "") -> Iterator[LiveService]:
    """Boot a PBX (short entry prompts plus `overrides`) and serve it; stop both at the end."""
    pbx = start_hall_pbx(instance_name(tag), work / "pbx", {**SHORT_PROMPTS, **(overrides or {})},
                         pjsip_local=pjsip_local, extra_secrets=extra_secrets)
    running = LiveService(pbx, ServiceProcess(pbx.config, work / "serve.log"))
    try:
        running.service.make_tokens()  # also migrates the service's database
        engine = make_engine(pbx.config.database.url)
        try:
            with session_scope(make_session_factory(engine)) as session:
                for name, role in (named_tokens or {}).items():
                    running.tokens[name] = add_token(session, name, role)
        finally:
            engine.dispose()
        asyncio.run(running.service.start())
        yield running
    finally:
        running.stop()


# ----- /api/events --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Frame:
    kind: str
    data: dict[str, Any]
    received: float  # time.monotonic() when the frame arrived


class EventStream:
    """An open `/api/events` stream read in the background; every frame is kept, in order.

    `async with EventStream(url, token) as stream:` returns once the `hello` frame arrived;
    `await stream.next(kind, predicate)` finds frames received since the last match of that call.
    """

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.token = token
        self.frames: list[Frame] = []
        self.status: int | None = None
        self.content_type: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventStream:
        self._task = asyncio.create_task(self._read(), name="event-stream")
        await self.wait("hello", timeout=STREAM_CONNECT_S)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
                await self._task

    async def _read(self) -> None:
        timeout = httpx.Timeout(STREAM_CONNECT_S, read=None)
        async with (httpx.AsyncClient(base_url=self.base_url, headers=bearer(self.token),
                                      timeout=timeout) as client,
                    client.stream("GET", "/api/events") as response):
            self.status = response.status_code
            self.content_type = response.headers.get("content-type")
            response.raise_for_status()
            kind: str | None = None
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: ") and kind is not None:
                    self.frames.append(Frame(kind, json.loads(line.removeprefix("data: ")),
                                             time.monotonic()))
                    kind = None

    def _check_alive(self) -> None:
        if self._task is not None and self._task.done():
            error = self._task.exception() if not self._task.cancelled() else None
            raise AssertionError(f"the event stream ended (status {self.status}): {error!r}")

    def of(self, kind: str, predicate: Callable[[dict[str, Any]], bool] = lambda _d: True) -> list[Frame]:
        return [f for f in self.frames if f.kind == kind and predicate(f.data)]

    async def wait(self, kind: str, predicate: Callable[[dict[str, Any]], bool] = lambda _d: True,
                   *, after: float = 0.0, timeout: float = STREAM_WAIT_S) -> Frame:
        """The first `kind` frame received after `after` (monotonic) for which `predicate` holds."""
        async def found() -> Frame | None:
            match = next((f for f in self.of(kind, predicate) if f.received >= after), None)
            if match is None:
                self._check_alive()
            return match

        return await wait_for(found, timeout, f"a {kind!r} frame on the event stream")


def seat_frame(seat_id: str, state: str) -> Callable[[dict[str, Any]], bool]:
    return lambda data: data.get("seat_id") == seat_id and data.get("state") == state


# ----- /metrics -----------------------------------------------------------------------------------

def prometheus_samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Samples of a Prometheus text exposition, keyed by metric name and label set."""
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE_RE.match(line)
        if match is None:
            raise AssertionError(f"not a Prometheus sample line: {line!r}")
        labels = frozenset(LABEL_RE.findall(match["labels"] or ""))
        samples[(match["name"], labels)] = float(match["value"])
    return samples


def sample(samples: Mapping[tuple[str, frozenset[tuple[str, str]]], float], name: str,
           **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    if key not in samples:
        known = sorted(f"{n}{dict(ls)}" for n, ls in samples if n == name)
        raise AssertionError(f"no sample {name}{labels}; {name} has {known or 'no samples'}")
    return samples[key]

"""A 500-seat hall (ten times the 50 seats of hotline.conf, ten times its traffic) replayed
through one bridge: how many AMI events per second it keeps up with, and how long a seat change
takes from the AMI socket to the API, against the 50-seat hall measured in the same run.

Run by hand:

    .venv/bin/python bench/hall_replay.py [--seats 500] [--baseline-seats 50] [--probes 100]

The AMI side is the shipped replay client (telephony/ami/testing.py): its Login and resync
answers come from the project's recordings (tests/ami_captures 01), and the traffic is built
from recorded shapes: each seat registers and joins the queue as in capture 08, then takes
calls that are capture 08's queue call with the seat, channel names, uniqueids and bridge ids
renamed; a probe is capture 05's QueueMemberPause renamed to one seat, with a unique reason.
The hall's traffic is one call per seat every CALL_EVERY_S seconds.

The service side is real: `hotline serve` (api_load.ServiceProcess) on a copy of hotline.conf
whose [seats] holds the hall, a temporary SQLite database; its AmiClient, hall monitor, seat
board, live feed and recorder all run. A probe's delay is from just before its bytes are
written to the AMI socket until a tight poll of GET /api/seats/{id} first shows it.

1. Each hall (baseline first) gets its own service; with its traffic flowing at its own rate,
   probes give p50/p99 (a lost probe counts as the 2 s timeout).
2. On the big hall the rate is then doubled step by step: a block of STEP_S seconds of traffic
   is written at the rate, then a probe; the block counts as kept up with when the probe shows
   within a second of the block's last write and the bridge's event queue did not overflow.
   Once a rate is not kept up with, three more blocks narrow down (geometric midpoints); each
   block starts once the bridge has caught up. events_per_s is the highest rate kept up with.

The last line is exactly:

    events_per_s=R event_to_api_p99_ms=B baseline_p99_ms=C p99_ratio=B/C
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import httpx
from api_load import ServiceProcess
from state_latency import MS, PROBE_GAP_S, PROBE_TIMEOUT_S, Probe, SeatPoller, free_port, wait_ready

from hotline.auth import Role, add_token
from hotline.config import HotlineConfig, load_config
from hotline.config.ini import write_overrides
from hotline.config.secrets import write_demo_secrets
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from seat_manager.directory import Seat
from telephony.ami.testing import FRAME_END, Recording, ReplayAmiServer, header, simple_response

REPO: Final = Path(__file__).resolve().parents[1]
CAPTURES: Final = REPO / "tests" / "ami_captures"
LOGIN_CAPTURE: Final = "01-login-corestatus-queuestatus.txt"
CALL_CAPTURE: Final = "08-sip-seat-baresip-queue-call.txt"
PAUSE_CAPTURE: Final = "05-queue-member-add-pause-remove.txt"
SEATS: Final = 500
BASELINE_SEATS: Final = 50
CALL_EVERY_S: Final = 180.0
"""One call per seat every three minutes: a busy hall's traffic."""
DEFAULT_PROBES: Final = 100
STEP_S: Final = 3.0
KEPT_UP_S: Final = 1.0
MAX_STEPS: Final = 8
REFINE_STEPS: Final = 3
REFINE_RATIO: Final = 1.1
"""Narrowing stops once the rate kept up with is within 10 % of the one that was not."""
DRAIN_TIMEOUT_S: Final = 60.0
EXTENSION_BASE: Final = 1000
PAUSE_REASON: Final = "小休#{index:05d}"
OVERFLOW_LOG: Final = "AMI event queue full"
TOKEN_NAME: Final = "bench-hall-replay"
SEED: Final = 12345
ASTERISK_VERSION: Final = "22.10.1+dfsg+~cs6.17.60671434-1"

_SEAT_TEXT: Final = re.compile(rb"(Local/|MemberName: |Exten: )01\b")
_EXTENSION: Final = re.compile(rb"\b1001\b")
_CHANNEL_NUMBER: Final = re.compile(rb"-([0-9a-f]{8})(?=[;\r]|$)", re.MULTILINE)
_UNIQUEID: Final = re.compile(rb"\b(1796\d{6}\.\d+)\b")
_BRIDGE_ID: Final = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# ----- the traffic, from recorded shapes -----------------------------------------------------


def hall_seats(count: int) -> list[Seat]:
    """Seats 001..NNN on extensions 1001..; three digits so 500 fit."""
    return [Seat.standard(f"{n:03d}", str(EXTENSION_BASE + n)) for n in range(1, count + 1)]


class Renamer:
    """Capture 08 was one seat (01, extension 1001) and one call: rename it to another seat
    and give every channel, uniqueid and bridge of each copy fresh values."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)
        self._sequence = itertools.count(1)
        self._rng = random.Random(SEED)

    def __call__(self, frames: list[bytes], seat: Seat) -> list[bytes]:
        fresh: dict[bytes, bytes] = {}

        def once(kind: str, value: bytes, make: Callable[[], str]) -> bytes:
            return fresh.setdefault(kind.encode() + value, make().encode())

        out = []
        for frame in frames:
            frame = _SEAT_TEXT.sub(lambda m: m[1] + seat.seat_id.encode(), frame)
            frame = _EXTENSION.sub(seat.endpoint.encode(), frame)
            frame = _CHANNEL_NUMBER.sub(
                lambda m: b"-" + once("c", m[1], lambda: f"{next(self._numbers):08x}"), frame)
            frame = _UNIQUEID.sub(lambda m: once("u", m[1], lambda: f"1796000000.{next(self._sequence)}"),
                                  frame)
            frame = _BRIDGE_ID.sub(
                lambda m: once("b", m[0], lambda: str(uuid.UUID(int=self._rng.getrandbits(128), version=4))),
                frame)
            out.append(frame)
        return out


@dataclass
class HallTraffic:
    """Every seat's login, then calls seat after seat, all from capture 08's shape."""

    seats: list[Seat]
    login_shape: list[bytes] = field(init=False)
    call_shape: list[bytes] = field(init=False)
    pause_shape: bytes = field(init=False)
    rename: Renamer = field(default_factory=Renamer)

    def __post_init__(self) -> None:
        events = Recording.load(CAPTURES / CALL_CAPTURE).events()
        names = [header(frame, "Event") for frame in events]
        first_call = names.index("Newchannel")
        self.login_shape = [f for f in events[:first_call] if header(f, "Event") != "FullyBooted"]
        self.call_shape = events[first_call:names.index("QueueMemberRemoved")]
        pauses = Recording.load(CAPTURES / PAUSE_CAPTURE).events()
        self.pause_shape = next(f for f in pauses if header(f, "Event") == "QueueMemberPause")

    @property
    def rate(self) -> float:
        """The hall's own traffic, events per second."""
        return len(self.seats) * len(self.call_shape) / CALL_EVERY_S

    def logins(self) -> Iterator[bytes]:
        for seat in self.seats:
            yield from self.rename(self.login_shape, seat)

    def calls(self) -> Iterator[bytes]:
        for seat in itertools.cycle(self.seats):
            yield from self.rename(self.call_shape, seat)

    def probe(self, seat: Seat, *, paused: bool, reason: str) -> bytes:
        """Capture 05's QueueMemberPause (seat 02) for `seat`, paused or resumed."""
        frame = self.pause_shape.replace(b"Local/02@", f"Local/{seat.seat_id}@".encode())
        frame = frame.replace(b"MemberName: 02\r", f"MemberName: {seat.seat_id}\r".encode())
        frame = frame.replace(b"PJSIP/1002", seat.device.encode())
        frame = re.sub(rb"Paused: \d", b"Paused: " + (b"1" if paused else b"0"), frame)
        return re.sub(rb"PausedReason: [^\r]*", b"PausedReason: " + reason.encode(), frame)


# ----- one hall: config, replay server, service ----------------------------------------------


def hall_config(workdir: Path, seats: list[Seat], ami_port: int) -> HotlineConfig:
    """hotline.conf with the hall's seats, a temporary SQLite store and free ports."""
    config_path = workdir / "hotline.conf"
    text = (REPO / "hotline.conf").read_text(encoding="utf-8")
    start = text.index("[seats]\n")
    end = text.index("\n[", start + 1)
    lines = "".join(f"{seat.seat_id} = {seat.endpoint}\n" for seat in seats)
    config_path.write_text(text[:start] + "[seats]\n" + lines + text[end:], encoding="utf-8")
    shutil.copy(REPO / "remit.conf", workdir / "remit.conf")
    write_demo_secrets(config_path)
    for folder in ("spool", "archive"):
        (workdir / folder).mkdir(exist_ok=True)
    write_overrides(config_path, {
        "ami.host": "127.0.0.1", "ami.port": str(ami_port),
        "database.url": f"sqlite:///{workdir / 'hotline.db'}",
        "api.bind": "127.0.0.1", "api.port": str(free_port()),
        "voicemail.spool": str(workdir / "spool"), "voicemail.archive": str(workdir / "archive")})
    config = load_config(config_path)
    upgrade_database(config)
    return config


def monitor_token(config: HotlineConfig) -> str:
    engine = make_engine(config.database.url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            return add_token(session, TOKEN_NAME, Role.MONITOR)
    finally:
        engine.dispose()


@dataclass
class Hall:
    """One hall under test: its traffic, the replay server and the service it feeds."""

    traffic: HallTraffic
    server: ReplayAmiServer
    service: ServiceProcess
    client: httpx.AsyncClient
    probes_sent: itertools.count[int] = field(default_factory=itertools.count)

    def log_size(self) -> int:
        return len(self.service.log_path.read_bytes())

    def overflowed_since(self, offset: int) -> bool:
        """The bridge's event queue overflowed (events dropped, resync) after `offset`."""
        return OVERFLOW_LOG.encode() in self.service.log_path.read_bytes()[offset:]

    async def drained(self, poller: SeatPoller) -> None:
        """Until a probe shows again: whatever backlog a block left is gone."""
        deadline = time.perf_counter() + DRAIN_TIMEOUT_S
        while (await self.probe(poller)).visible_at is None:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the bridge never caught up:\n{self.service.log_tail()}")

    async def probe(self, poller: SeatPoller) -> Probe:
        """One seat change written to the AMI socket, waited for through the API."""
        index = next(self.probes_sent)
        seats = self.traffic.seats
        seat = seats[index % len(seats)]
        paused = (index // len(seats)) % 2 == 0
        probe = Probe(seat, paused, PAUSE_REASON.format(index=index) if paused else "")
        data = self.traffic.probe(seat, paused=paused, reason=probe.reason) + FRAME_END
        poller.current = probe
        probe.sent_at = time.perf_counter()
        self.server.push_raw(data)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(probe.done.wait(), PROBE_TIMEOUT_S)
        return probe


@contextlib.asynccontextmanager
async def running_hall(seat_count: int, workdir: Path) -> AsyncIterator[Hall]:
    """Replay server and `hotline serve` for a hall of `seat_count`; every seat logged in."""
    traffic = HallTraffic(hall_seats(seat_count))
    login = Recording.load(CAPTURES / LOGIN_CAPTURE)
    server = ReplayAmiServer(login, [login])  # its CoreShowChannels and QueueStatus: an idle hall
    for action in ("PJSIPShowContacts", "DeviceStateList"):  # not recorded: Asterisk's empty answer
        server.handlers[action.lower()] = lambda a: [simple_response(a, "Error", Message="No items found")]
    for action in ("CoreSettings", "CoreStatus"):
        server.handlers[action.lower()] = lambda a: [simple_response(a, AsteriskVersion=ASTERISK_VERSION)]
    await server.start()
    config = hall_config(workdir, traffic.seats, server.port)
    server.username, server.secret = config.ami.username, config.ami.secret
    service = ServiceProcess(config, workdir / "service.log")
    base = f"http://{config.api.bind}:{config.api.port}"
    headers = {"Authorization": f"Bearer {monitor_token(config)}"}
    service.start()
    try:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=5.0) as client:
            await server.wait_logged_in(60.0)
            await server.play(traffic.logins())
            await wait_ready(client, service, seat_count)
            yield Hall(traffic, server, service, client)
    finally:
        service.stop()
        await server.close()


# ----- measuring -------------------------------------------------------------------------------


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def delays_ms(probes: list[Probe]) -> list[float]:
    """A lost probe counts as the timeout, so a p99 never looks better than it was."""
    return sorted(p.delay_ms if p.delay_ms is not None else PROBE_TIMEOUT_S * MS for p in probes)


async def latency_under_traffic(hall: Hall, rate: float, count: int) -> list[float]:
    """Probes one at a time while the hall's calls flow at `rate` events per second."""
    poller = SeatPoller(hall.client, hall.traffic.seats[-1])
    poller.start()
    flow = asyncio.create_task(hall.server.play(hall.traffic.calls(), rate=rate))
    rng = random.Random(SEED)
    probes = []
    try:
        for _ in range(count):
            probes.append(await hall.probe(poller))
            await asyncio.sleep(rng.uniform(*PROBE_GAP_S))
    finally:
        flow.cancel()
        await asyncio.gather(flow, return_exceptions=True)
        await poller.stop()
    return delays_ms(probes)


async def kept_up(hall: Hall, rate: float) -> tuple[bool, float]:
    """STEP_S seconds of calls at `rate`, then a probe: kept up with when the probe shows
    within KEPT_UP_S of the block's end and nothing overflowed. Returns (kept up, events/s
    the bridge got through, block and probe included)."""
    poller = SeatPoller(hall.client, hall.traffic.seats[-1])
    poller.start()
    try:
        await hall.drained(poller)
        offset = hall.log_size()
        started = time.perf_counter()
        written = await hall.server.play(itertools.islice(hall.traffic.calls(), int(rate * STEP_S)),
                                         rate=rate)
        ended = time.perf_counter()
        probe = await hall.probe(poller)
    finally:
        await poller.stop()
    if probe.visible_at is None:
        return False, 0.0
    through = (written + 1) / (probe.visible_at - started)
    return probe.visible_at - ended <= KEPT_UP_S and not hall.overflowed_since(offset), through


async def saturation(hall: Hall, emit: Callable[[str], None]) -> float:
    """Double the rate from the hall's own until the bridge no longer keeps up, then narrow
    down between the last rate kept up with and the first one that was not."""
    best, low, high = 0.0, 0.0, 0.0
    rate = hall.traffic.rate
    for _ in range(MAX_STEPS + REFINE_STEPS):
        ok, through = await kept_up(hall, rate)
        shown = f"got through {through:8.0f} ev/s" if through else "probe not shown within 2 s"
        emit(f"  offered {rate:8.0f} ev/s: {shown}, {'kept up' if ok else 'fell behind'}")
        if ok:
            best, low = max(best, min(rate, through)), rate
        elif not low:
            break  # not even the hall's own traffic
        else:
            high = rate
        if high and high / low < REFINE_RATIO:
            break
        rate = rate * 2 if not high else (low * high) ** 0.5
    return best


def summary(name: str, seats: int, rate: float, delays: list[float]) -> str:
    return (f"{name}: {seats} seats, traffic {rate:.0f} ev/s, {len(delays)} probes: "
            f"p50 {statistics.median(delays):.1f} ms, p99 {percentile(delays, 99):.1f} ms")


async def measure(args: argparse.Namespace, emit: Callable[[str], None]) -> int:
    results: dict[str, list[float]] = {}
    events_per_s = 0.0
    for name, seats in (("baseline", args.baseline_seats), ("hall", args.seats)):
        with tempfile.TemporaryDirectory(prefix="hotline-hall-replay-") as folder:
            async with running_hall(seats, Path(folder)) as hall:
                rate = hall.traffic.rate
                results[name] = await latency_under_traffic(hall, rate, args.probes)
                emit(summary(name, seats, rate, results[name]))
                if name == "hall":
                    events_per_s = await saturation(hall, emit)
    hall_p99, base_p99 = percentile(results["hall"], 99), percentile(results["baseline"], 99)
    emit(f"events_per_s={events_per_s:.0f} event_to_api_p99_ms={hall_p99:.1f} "
         f"baseline_p99_ms={base_p99:.1f} p99_ratio={hall_p99 / base_p99:.2f}")
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seats", type=int, default=SEATS)
    parser.add_argument("--baseline-seats", type=int, default=BASELINE_SEATS)
    parser.add_argument("--probes", type=int, default=DEFAULT_PROBES)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return asyncio.run(measure(parse_args(argv), lambda line: print(line, flush=True)))


if __name__ == "__main__":
    sys.exit(main())

"""How long a seat change takes from the AMI event leaving Asterisk to being visible through
the API, with 200 events/s flowing: p50 and p99 against a quiet baseline in the same run.

Run by hand:

    .venv/bin/python bench/state_latency.py [--rate 200] [--probes 500] [--block 100]

The AMI side is a FAKE Asterisk: the shipped replay client (telephony/ami/testing.py) on
loopback, its Login answered as recording 01, the resync actions answered in the format of the
Asterisk 22 captures for the hall of hotline.conf, Ping and Logoff. That is acceptable only
because this is a benchmark, not an integration test: it needs a PBX that emits events at an
exact rate and stamps the moment each probe leaves it, which a real Asterisk cannot be driven
to do. What the bridge does with AMI is tested against the real sandbox Asterisk in
tests/integration; nothing here proves it.

The service side is real: hotline.conf loaded with overrides (ami.port -> the fake server,
a temporary SQLite database, a free api.port, temporary voicemail folders), migrated, a
monitor token added, then hotline.wiring.build_app served by uvicorn in a subprocess exactly
as `hotline serve` does (same uvicorn.run arguments, json logs at info).

After login the server registers all seats (ContactStatus, DeviceStateChange), then sends
probes: QueueMemberPause for one seat at a time (MemberName "NN", Interface
"Local/NN@hotline-seat", StateInterface "PJSIP/10NN"), pausing it with a unique PausedReason
on one visit and resuming it on the next. A tight poll loop on its own keep-alive HTTP
connection reads GET /api/seats/{id} of the probed seat; a probe's delay is from just before
its bytes are written to the AMI socket until the first response showing the new state
arrives (so it includes one poll round trip). Probes go one at a time, 20-40 ms apart at a
random phase. Blocks of probes alternate between the background stream at --rate (the
captures looped with fresh ids, keeping what the Login's Events mask admits, one event every
1/rate s) and no background at all (the baseline), so load from other processes on a shared
machine hits both alike. To show where the time goes, each probe's "board changed" delay is
also reported: from the same send moment to the SeatChange time the service's recorder stored
(wall clocks of two processes on one machine). The last line is exactly:

    events_per_s=R p50_ms=A p99_ms=B baseline_p99_ms=C
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import httpx
from ami_throughput import RECORDED_SEATS, TRANSCRIPT_DIR, load_captures, refresh_ids
from sqlalchemy import select

from hotline.auth import Role, add_token
from hotline.config import HotlineConfig, load_config
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from seat_manager.directory import Seat
from seat_manager.models import SeatStateChange
from seat_manager.service import build_directory
from seat_manager.state import SeatState
from telephony.ami import AmiFramer, Message
from telephony.ami.testing import ReceivedAction, Recording, ReplayAmiServer

CONFIG_PATH: Final = Path(__file__).resolve().parents[1] / "hotline.conf"
DEFAULT_RATE: Final = 200
DEFAULT_PROBES: Final = 500
"""Per condition (loaded and baseline)."""
DEFAULT_BLOCK: Final = 100
WARMUP_PROBES: Final = 50
PROBE_GAP_S: Final = (0.020, 0.040)
PROBE_TIMEOUT_S: Final = 2.0
READY_TIMEOUT_S: Final = 30.0
STOP_TIMEOUT_S: Final = 10.0
HTTP_TIMEOUT_S: Final = 5.0
SEED: Final = 12345
MS: Final = 1000.0
PERCENTILES: Final = 100
APP_LOG_FORMAT: Final = "json"
APP_LOG_LEVEL: Final = "info"
"""`hotline serve`'s defaults: the per-request log line is part of what a poll costs."""
TEMP_PREFIX: Final = "hotline-latency-"
BENCH_SECRET: Final = "bench-secret"
TOKEN_NAME: Final = "bench-state-latency"
PAUSE_REASON: Final = "小休#{index:05d}"
"""Unique per probe; Chinese so the reason goes through the UTF-8 path like a real one."""

LOGIN_CAPTURE: Final = "01-login-corestatus-queuestatus.txt"
EOM: Final = b"\r\n\r\n"
ASTERISK_VERSION: Final = "22.10.1+dfsg+~cs6.17.60671434-1"
ALL_CLASSES: Final = frozenset({"on", "all"})
NO_CLASSES: Final = frozenset({"off", "none", ""})
FILTERED_EVENTS: Final = frozenset({"TestEvent"})
"""What the rendered manager.conf's eventfilter drops (Debian's test framework)."""
CONTACT_PORT_BASE: Final = 5400
DEVICE_IDLE: Final = "NOT_INUSE"
MEMBER_STATUS_IDLE: Final = "1"
PROBE_STATES: Final = (SeatState.AVAILABLE.value, SeatState.PAUSED.value)


# ----- what the fake Asterisk says -------------------------------------------------------------


def frame(*headers: tuple[str, object]) -> bytes:
    """One AMI message as Asterisk writes it: CRLF lines and a blank line."""
    return "".join(f"{key}: {value}\r\n" for key, value in headers).encode() + b"\r\n"


Headers = list[tuple[str, object]]


def member_headers(seat: Seat, queue: str, *, paused: bool, reason: str, now: int) -> Headers:
    """The queue member fields Asterisk 22 puts in QueueMemberPause (capture 05)."""
    return [
        ("Queue", queue), ("MemberName", seat.member_name), ("Interface", seat.interface),
        ("StateInterface", seat.state_interface), ("Membership", "dynamic"), ("Penalty", 0),
        ("CallsTaken", 0), ("LastCall", 0), ("LastPause", now if paused else 0), ("LoginTime", now),
        ("InCall", 0), ("Status", MEMBER_STATUS_IDLE), ("Paused", int(paused)),
        ("PausedReason", reason), ("Ringinuse", 0), ("Wrapuptime", 0),
    ]


class HallScript:
    """Everything the fake Asterisk sends for the hall of hotline.conf, as bytes."""

    def __init__(self, seats: list[Seat], queue: str) -> None:
        self.seats = seats
        self.queue = queue
        self.started = time.localtime()

    def response(self, action: str, action_id: str) -> bytes:
        """The answer (and list) for one action, as the captures show them."""
        aid = ("ActionID", action_id)
        lists = {
            "pjsipshowcontacts": ("A listing of Contacts follows, presented as ContactList events",
                                  self._contacts, "ContactListComplete"),
            "devicestatelist": ("Device State Changes will follow", self._devices,
                                "DeviceStateListComplete"),
            "queuestatus": ("Queue status will follow", self._queue_status, "QueueStatusComplete"),
            "coreshowchannels": ("Channels will follow", list, "CoreShowChannelsComplete"),
        }
        key = action.lower()
        if key in lists:
            message, items, complete = lists[key]
            events = items()
            return b"".join([
                frame(("Response", "Success"), aid, ("EventList", "start"), ("Message", message)),
                *(frame(*event, aid) for event in events),
                frame(("Event", complete), aid, ("EventList", "Complete"), ("ListItems", len(events))),
            ])
        if key == "coresettings":
            return frame(("Response", "Success"), aid, ("AMIversion", "11.0.0"),
                         ("AsteriskVersion", ASTERISK_VERSION), ("SystemName", ""),
                         ("CoreMaxCalls", 0), ("CoreMaxLoadAvg", "0.000000"), ("CoreRunUser", ""),
                         ("CoreRunGroup", ""), ("CoreMaxFilehandles", 4096),
                         ("CoreRealTimeEnabled", "No"), ("CoreCDRenabled", "Yes"),
                         ("CoreHTTPenabled", "No"), ("SoundsSearchCustomDir", "No"))
        if key == "corestatus":
            day, clock = time.strftime("%Y-%m-%d", self.started), time.strftime("%H:%M:%S", self.started)
            return frame(("Response", "Success"), aid, ("CoreStartupDate", day), ("CoreStartupTime", clock),
                         ("CoreReloadDate", day), ("CoreReloadTime", clock), ("CoreCurrentCalls", 0),
                         ("CoreProcessedCalls", 0))
        if key == "ping":
            return frame(("Response", "Success"), aid, ("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}"))
        if key == "logoff":
            return frame(("Response", "Goodbye"), aid, ("Message", "Thanks for all the fish."))
        return frame(("Response", "Error"), aid, ("Message", "Invalid/unknown command"))

    def _contacts(self) -> list[Headers]:
        """PJSIPShowContacts items (not in the captures: fields from Asterisk 22's AMI docs)."""
        return [[
            ("Event", "ContactList"), ("ObjectType", "contact"),
            ("ObjectName", f"{seat.endpoint};@{seat.endpoint}"), ("ViaAddr", "127.0.0.1"),
            ("ViaPort", CONTACT_PORT_BASE + number), ("QualifyTimeout", "3.000000"),
            ("CallId", f"bench-{number}"),
            ("RegServer", ""), ("PruneOnBoot", "false"), ("Path", ""), ("Endpoint", seat.endpoint),
            ("AuthenticateQualify", "false"), ("Uri", self._uri(seat, number)), ("QualifyFrequency", 0),
            ("OutboundProxy", ""), ("ExpirationTime", int(time.time()) + 3600), ("Aor", seat.endpoint),
            ("UserAgent", "baresip v2.9.0"), ("Status", "NonQualified"), ("RoundtripUsec", "N/A"),
        ] for number, seat in enumerate(self.seats)]

    def _devices(self) -> list[Headers]:
        return [[("Event", "DeviceStateChange"), ("Device", seat.device), ("State", DEVICE_IDLE)]
                for seat in self.seats]

    def _queue_status(self) -> list[Headers]:
        params = [("Event", "QueueParams"), ("Queue", self.queue), ("Max", 0), ("Strategy", "rrmemory"),
                  ("Calls", 0), ("Holdtime", 0), ("TalkTime", 0), ("Completed", 0), ("Abandoned", 0),
                  ("ServiceLevel", 0), ("ServicelevelPerf", "0.0"), ("ServicelevelPerf2", "0.0"),
                  ("Weight", 0)]
        now = int(time.time())
        members = [[
            ("Event", "QueueMember"), ("Queue", self.queue), ("Name", seat.member_name),
            ("Location", seat.interface), ("StateInterface", seat.state_interface),
            ("Membership", "dynamic"), ("Penalty", 0), ("CallsTaken", 0), ("LastCall", 0),
            ("LastPause", 0), ("LoginTime", now), ("InCall", 0), ("Status", MEMBER_STATUS_IDLE),
            ("Paused", 0), ("PausedReason", ""), ("Wrapuptime", 0),
        ] for seat in self.seats]
        return [params, *members]

    @staticmethod
    def _uri(seat: Seat, number: int) -> str:
        return f"sip:{seat.endpoint}@127.0.0.1:{CONTACT_PORT_BASE + number}"

    def registrations(self) -> bytes:
        """Every seat phone registers and goes idle (capture 10's ContactStatus, then its device)."""
        return b"".join(
            frame(("Event", "ContactStatus"), ("Privilege", "system,all"), ("URI", self._uri(seat, number)),
                  ("ContactStatus", "NonQualified"), ("AOR", seat.endpoint),
                  ("EndpointName", seat.endpoint), ("RoundtripUsec", 0))
            + frame(("Event", "DeviceStateChange"), ("Privilege", "call,all"), ("Device", seat.device),
                    ("State", DEVICE_IDLE))
            for number, seat in enumerate(self.seats))

    def probe(self, seat: Seat, *, paused: bool, reason: str) -> bytes:
        """QueueMemberPause for one seat, as Asterisk sends it after QueuePause."""
        now = int(time.time())
        return frame(("Event", "QueueMemberPause"), ("Privilege", "agent,all"),
                     *member_headers(seat, self.queue, paused=paused, reason=reason, now=now))


def event_classes(mask: str) -> frozenset[str] | None:
    """The Login's Events mask as a set of classes; None means everything."""
    classes = frozenset(part.strip().lower() for part in mask.split(","))
    if classes & ALL_CLASSES:
        return None
    return classes - NO_CLASSES


def background_frames(captures: list[bytes], classes: frozenset[str] | None) -> Iterator[bytes]:
    """The captured events, looped forever with fresh ids, as Asterisk would send them to a
    session with this Events mask: no responses, no list items of other sessions' actions
    (they carry an ActionID), nothing outside the mask, no TestEvent."""
    for loop in itertools.count():
        yield from background_frames_once(captures, classes, loop)


def background_frames_once(captures: list[bytes], classes: frozenset[str] | None,
                           loop: int = 0) -> Iterator[bytes]:
    """One pass over the captures (see background_frames)."""
    for capture in captures:
        for raw in refresh_ids(capture, loop).split(EOM):
            message = AmiFramer().feed(raw + EOM)
            if len(message) == 1 and wanted(message[0], classes):
                yield raw + EOM


def wanted(message: Message, classes: frozenset[str] | None) -> bool:
    """Whether Asterisk would send this event unsolicited to a session with this mask."""
    if message.kind != "event" or message.action_id is not None or message.name in FILTERED_EVENTS:
        return False
    privilege = message.get("Privilege")
    if privilege is None:
        return False
    return classes is None or bool(classes & {part.strip().lower() for part in privilege.split(",")})


# ----- the fake Asterisk ---------------------------------------------------------------------


class FakeAsterisk:
    """The bridge's AMI peer: the shipped replay client (telephony/ami/testing.py), its Login
    answered as recording 01, every other action answered by the HallScript; the benchmark
    writes events to the logged-in session."""

    def __init__(self, script: HallScript) -> None:
        self.script = script
        self.server = ReplayAmiServer(Recording.load(TRANSCRIPT_DIR / LOGIN_CAPTURE), username=None,
                                      secret=None, fallback=self._answer)
        self.logged_in = self.server.logged_in

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def events_mask(self) -> str:
        """The Events mask of the last Login ("" before any)."""
        logins = self.server.actions("Login")
        return (logins[-1].get("Events") or "on") if logins else ""

    @property
    def actions(self) -> dict[str, int]:
        return dict(Counter(action.name for action in self.server.received))

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.server.close(), STOP_TIMEOUT_S)

    def write(self, data: bytes) -> None:
        """Send bytes to the logged-in bridge now (the kernel gets them before this returns
        unless the socket buffer is full)."""
        if not self.logged_in.is_set():
            raise RuntimeError("the bridge is not connected to the fake Asterisk")
        self.server.push_raw(data)

    def _answer(self, action: ReceivedAction) -> list[bytes]:
        return [self.script.response(action.name, action.action_id)[: -len(EOM)]]


class BackgroundStream:
    """Writes one captured event every 1/rate s (catching up after a late wake-up), so the
    bridge has real traffic to chew on while probes go through."""

    def __init__(self, server: FakeAsterisk, frames: Iterator[bytes]) -> None:
        self.server = server
        self.frames = frames
        self.sent = 0
        self.seconds = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self, rate: float) -> None:
        if rate > 0:
            self._task = asyncio.create_task(self._run(1.0 / rate), name="background-events")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, interval: float) -> None:
        started = due = time.perf_counter()
        try:
            while True:
                now = time.perf_counter()
                while due <= now:
                    self.server.write(next(self.frames))
                    self.sent += 1
                    due += interval
                await asyncio.sleep(due - time.perf_counter())
        finally:
            self.seconds += time.perf_counter() - started


# ----- probes and the poller -------------------------------------------------------------------


@dataclass
class Probe:
    seat: Seat
    paused: bool
    reason: str
    sent_at: float = 0.0
    sent_wall: float = 0.0
    visible_at: float | None = None
    applied_wall: float | None = None
    """When the bridge's board changed (the recorder's stored SeatChange time, wall clock)."""
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def shown_by(self, body: dict[str, Any]) -> bool:
        """The API shows this probe's state (the reason is unique; a resume follows a pause
        that was already seen, so "not paused" can only come from this probe)."""
        if self.paused:
            return body.get("paused") is True and body.get("pause_reason") == self.reason
        return body.get("paused") is False

    @property
    def delay_ms(self) -> float | None:
        return None if self.visible_at is None else (self.visible_at - self.sent_at) * MS

    @property
    def applied_ms(self) -> float | None:
        return None if self.applied_wall is None else (self.applied_wall - self.sent_wall) * MS


class SeatPoller:
    """A tight loop of GET /api/seats/{id} on one keep-alive connection, always reading the
    seat of the latest probe and marking the probe seen on the first response showing it."""

    def __init__(self, client: httpx.AsyncClient, idle_seat: Seat) -> None:
        self.client = client
        self.current: Probe | None = None
        self.idle_seat = idle_seat
        self.round_trips: list[float] = []
        """Every poll's request-to-response time in ms: a probe's delay includes up to about
        one and a half of these, whatever the bridge does."""
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="seat-poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            probe = self.current
            seat = probe.seat if probe is not None else self.idle_seat
            asked = time.perf_counter()
            response = await self.client.get(f"/api/seats/{seat.seat_id}")
            seen = time.perf_counter()
            self.round_trips.append((seen - asked) * MS)
            if response.status_code != httpx.codes.OK:
                raise RuntimeError(f"GET /api/seats/{seat.seat_id}: {response.status_code} {response.text}")
            if probe is not None and not probe.done.is_set() and probe.shown_by(response.json()):
                probe.visible_at = seen
                probe.done.set()


class ProbeRunner:
    """Sends probes one at a time, each to the next seat, alternately pausing and resuming."""

    def __init__(self, server: FakeAsterisk, poller: SeatPoller, seats: list[Seat]) -> None:
        self.server = server
        self.poller = poller
        self.seats = seats
        self.rng = random.Random(SEED)
        self.history: list[Probe] = []
        self._counter = itertools.count()

    async def run(self, count: int) -> list[Probe]:
        probes = []
        for _ in range(count):
            index = next(self._counter)
            seat = self.seats[index % len(self.seats)]
            paused = (index // len(self.seats)) % 2 == 0
            probe = Probe(seat, paused, PAUSE_REASON.format(index=index) if paused else "")
            data = self.server.script.probe(seat, paused=paused, reason=probe.reason)
            self.poller.current = probe
            self.history.append(probe)
            probe.sent_wall = time.time()
            probe.sent_at = time.perf_counter()
            self.server.write(data)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(probe.done.wait(), PROBE_TIMEOUT_S)
            probes.append(probe)
            await asyncio.sleep(self.rng.uniform(*PROBE_GAP_S))
        return probes


# ----- the service under test ----------------------------------------------------------------


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare_service(overrides: dict[str, str]) -> tuple[HotlineConfig, str]:
    """What `hotline serve` needs before it starts: the migrated database and a token."""
    config = load_config(CONFIG_PATH, overrides)
    upgrade_database(config)
    engine = make_engine(config.database.url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            token = add_token(session, TOKEN_NAME, Role.MONITOR)
    finally:
        engine.dispose()
    return config, token


def serve_app(overrides_json: str) -> int:
    """Child process: `hotline serve` with overrides (same logging and uvicorn.run call)."""
    import uvicorn

    from hotline.logging import configure_logging
    from hotline.wiring import build_app

    configure_logging(APP_LOG_FORMAT, APP_LOG_LEVEL)
    config = load_config(CONFIG_PATH, json.loads(overrides_json))
    app = build_app(config)
    uvicorn.run(app, host=config.api.bind, port=config.api.port, log_config=None, access_log=False,
                log_level=APP_LOG_LEVEL)
    return 0


class ServiceProcess:
    """The API + bridge in its own process, like a deployed `hotline serve`."""

    def __init__(self, overrides: dict[str, str], log_path: Path) -> None:
        self.overrides = overrides
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--serve-app", json.dumps(self.overrides)],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the service exited ({self.process.returncode}):\n{self.log_tail()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"


def read_board_times(config: HotlineConfig, probes: list[Probe]) -> int:
    """Give each probe the time its seat change was applied, from the rows the service's
    recorder stored (flushed on shutdown); returns how many were found."""
    changed = (SeatStateChange.old_state.in_(PROBE_STATES)) & (SeatStateChange.new_state.in_(PROBE_STATES))
    engine = make_engine(config.database.url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            rows = session.execute(
                select(SeatStateChange.seat_id, SeatStateChange.new_state, SeatStateChange.pause_reason,
                       SeatStateChange.at).where(changed).order_by(SeatStateChange.id)).all()
    finally:
        engine.dispose()
    by_seat: dict[str, deque[Any]] = {}
    for row in rows:
        by_seat.setdefault(row.seat_id, deque()).append(row)
    found = 0
    for probe in probes:
        pending = by_seat.get(probe.seat.seat_id, deque())
        want = SeatState.PAUSED.value if probe.paused else SeatState.AVAILABLE.value
        while pending:
            row = pending.popleft()
            if row.new_state == want and (not probe.paused or row.pause_reason == probe.reason):
                probe.applied_wall = row.at.timestamp()
                found += 1
                break
    return found


async def wait_ready(client: httpx.AsyncClient, service: ServiceProcess, seats: int) -> float:
    """Until every seat is available through the API (the bridge logged in, resynced and
    applied the registrations); returns how long that took."""
    started = time.perf_counter()
    deadline = started + READY_TIMEOUT_S
    while time.perf_counter() < deadline:
        service.check_alive()
        with contextlib.suppress(httpx.TransportError):
            response = await client.get("/api/seats")
            if response.status_code == httpx.codes.OK:
                available = [s for s in response.json() if s["state"] == "available"]
                if len(available) == seats:
                    return time.perf_counter() - started
        await asyncio.sleep(0.1)
    raise RuntimeError(f"seats not all available within {READY_TIMEOUT_S:g} s:\n{service.log_tail()}")


# ----- the run -----------------------------------------------------------------------------


@dataclass
class Condition:
    """One side of the comparison and the probes measured under it."""

    rate: float
    probes: list[Probe] = field(default_factory=list)
    round_trips: list[float] = field(default_factory=list)

    def delays(self) -> list[float]:
        """Delays in ms; a lost probe counts as the timeout (so p99 never looks better)."""
        return sorted(p.delay_ms if p.delay_ms is not None else PROBE_TIMEOUT_S * MS for p in self.probes)

    @property
    def lost(self) -> int:
        return sum(p.visible_at is None for p in self.probes)

    def percentile(self, q: int) -> float:
        return percentile(self.delays(), q)

    def applied(self) -> str:
        """Where the time goes: AMI socket -> board changed, for the probes whose row was found."""
        delays = [p.applied_ms for p in self.probes if p.applied_ms is not None]
        if len(delays) < 2:
            return "board changed: no stored seat changes matched"
        return (f"board changed p50={percentile(delays, 50):.2f} ms p99={percentile(delays, 99):.2f} ms "
                f"({len(delays)} probes, from the recorder's stored change times)")

    def summary(self, label: str) -> str:
        delays = self.delays()
        return (f"{label}: probes={len(delays)} lost={self.lost} p50={self.percentile(50):.1f} ms "
                f"p90={self.percentile(90):.1f} ms p99={self.percentile(99):.1f} ms "
                f"max={delays[-1]:.1f} ms; poll round trip p50={percentile(self.round_trips, 50):.1f} ms "
                f"p99={percentile(self.round_trips, 99):.1f} ms")


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile (inclusive method: stays within the observed values)."""
    return statistics.quantiles(sorted(values), n=PERCENTILES, method="inclusive")[q - 1]


async def measure(args: argparse.Namespace, workdir: Path, emit: Callable[[str], None]) -> None:
    """Start everything, run the alternating blocks, report; always stop what it started."""
    hall_config = load_config(CONFIG_PATH, {"ami.secret": BENCH_SECRET})
    seats = list(build_directory(hall_config))
    script = HallScript(seats, hall_config.queue.name)
    server = FakeAsterisk(script)
    await server.start()
    overrides = {
        "ami.host": "127.0.0.1", "ami.port": str(server.port), "ami.secret": BENCH_SECRET,
        "database.url": f"sqlite:///{workdir / 'hotline.db'}", "api.bind": "127.0.0.1",
        "api.port": str(free_port()), "voicemail.spool": str(workdir / "spool"),
        "voicemail.archive": str(workdir / "archive"),
    }
    config, token = prepare_service(overrides)
    service = ServiceProcess(overrides, workdir / "service.log")
    emit(f"hall: {len(seats)} seats from {CONFIG_PATH.name}, queue {config.queue.name!r}; fake AMI on "
         f"127.0.0.1:{server.port}, API on {config.api.bind}:{config.api.port}")
    client = httpx.AsyncClient(
        base_url=f"http://{config.api.bind}:{config.api.port}", trust_env=False, timeout=HTTP_TIMEOUT_S,
        headers={"Authorization": f"Bearer {token}"},
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
    # The background replays the recordings, which log seats 01-03 in and out and unregister
    # their phones: probe only seats the recordings never touch.
    probed = [seat for seat in seats if seat.seat_id not in RECORDED_SEATS]
    poller = SeatPoller(client, probed[0])
    background: BackgroundStream | None = None
    loaded, baseline = Condition(args.rate), Condition(0.0)
    runner = ProbeRunner(server, poller, probed)
    try:
        service.start()
        await asyncio.wait_for(server.logged_in.wait(), READY_TIMEOUT_S)
        server.write(script.registrations())
        ready = await wait_ready(client, service, len(seats))
        classes = event_classes(server.events_mask)
        captures = load_captures(TRANSCRIPT_DIR)
        per_loop = sum(1 for _ in background_frames_once(captures, classes))
        background = BackgroundStream(server, background_frames(captures, classes))
        emit(f"bridge ready in {ready:.1f} s; actions answered so far "
             f"{dict(sorted(server.actions.items()))}; Events mask {server.events_mask!r}")
        poller.start()
        await runner.run(WARMUP_PROBES)
        for _ in range(-(-args.probes // args.block)):
            for condition in (loaded, baseline):
                polled = len(poller.round_trips)
                background.start(condition.rate)
                condition.probes += await runner.run(args.block)
                await background.stop()
                condition.round_trips += poller.round_trips[polled:]
                service.check_alive()
        achieved = background.sent / background.seconds if background.seconds else 0.0
        emit(f"background: {background.sent} events sent at {achieved:.1f} events/s while loaded "
             f"(the captures loop as {per_loop} events that mask admits); "
             f"{len(poller.round_trips)} polls")
    finally:
        await poller.stop()
        if background is not None:
            await background.stop()
        await client.aclose()
        await asyncio.to_thread(service.stop)  # the fake server must stay live to answer Logoff
        await server.stop()
    read_board_times(config, runner.history)
    report(loaded, baseline, args.rate, emit)


def report(loaded: Condition, baseline: Condition, rate: float, emit: Callable[[str], None]) -> None:
    """Both conditions, their ratio, and the one summary line."""
    emit(loaded.summary(f"loaded   ({rate:g} events/s)"))
    emit(f"  {loaded.applied()}")
    emit(baseline.summary("baseline (0 events/s)  "))
    emit(f"  {baseline.applied()}")
    p50, p99 = loaded.percentile(50), loaded.percentile(99)
    base50, base99 = baseline.percentile(50), baseline.percentile(99)
    emit(f"ratio loaded/baseline: p50 {p50 / base50:.2f}, p99 {p99 / base99:.2f}")
    if loaded.lost or baseline.lost:
        emit(f"WARNING: {loaded.lost + baseline.lost} probes never became visible within "
             f"{PROBE_TIMEOUT_S:g} s (counted at that value)")
    emit(f"events_per_s={rate:g} p50_ms={p50:.1f} p99_ms={p99:.1f} baseline_p99_ms={base99:.1f}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="background events per second")
    parser.add_argument("--probes", type=int, default=DEFAULT_PROBES, help="probes per condition")
    parser.add_argument("--block", type=int, default=DEFAULT_BLOCK,
                        help="probes per block; blocks alternate loaded/baseline")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep the database and the service log here (default: a temp dir)")
    parser.add_argument("--serve-app", metavar="OVERRIDES_JSON", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_app is not None:
        return serve_app(args.serve_app)
    if args.rate <= 0 or args.probes <= 0 or args.block <= 0:
        raise SystemExit("--rate, --probes and --block must be positive")
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=TEMP_PREFIX)))
        workdir.mkdir(parents=True, exist_ok=True)
        asyncio.run(measure(args, workdir, lambda line: print(line, flush=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

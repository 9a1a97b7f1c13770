"""A real SIP phone for tests and the demo: one baresip process driven over its ctrl_tcp JSON socket.

Why baresip: it registers to Asterisk over loopback in a fraction of a second and carries G.711 audio
exactly, so a test can play a known tone into a call and check what the other party heard.

Facts about Debian 12's baresip 1.0.0 this module relies on (checked against the binary):
- ctrl_tcp frames are netstrings (`<len>:<json>,`). A command is {"command", "params", "token"}; the
  reply is {"response": true, "ok": bool, "data": str, "token"}; events are {"event": true, "type",
  "class", "accountaor", "direction", "peeruri", "id", "param"}. Only *long* commands of loaded modules
  exist (dial, accept, hangup, reginfo, uadel, quit come from `menu`); there is no DTMF command, so
  DTMF goes through the `cons` module as key presses followed by a key release.
- Registration finishes (about 0.1 s) before the ctrl socket can be reached, so REGISTER_OK is usually
  missed: the registration state is read by polling `reginfo` (OK / ERR / zzz).
- An auto-answering phone emits no CALL_INCOMING, only CALL_ESTABLISHED.
- `sip_listen` also opens TCP on the same port and TLS on port+1.
- The `aufile` source hangs the call up when the file ends, so the source is padded with silence.
- `sndfile` writes `dump-<YYYY-MM-DD-HH-MM-SS>-{enc,dec}.wav` per call (dec = what the phone heard); two
  calls starting in the same second on one phone overwrite each other. The header is completed when
  the call's audio is torn down, shortly after CALL_CLOSED.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import re
import shutil
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from hotline.phones import audio
from hotline.tasks import cancel_and_wait

BARESIP_BIN = "baresip"
# util-linux (Essential in Debian): the phone gets SIGTERM when the process that started it dies,
# even by SIGKILL, so no baresip outlives a killed `hotline sandbox simulate` or test run.
SETPRIV_BIN = "setpriv"
PARENT_DEATH_SIGNAL = "TERM"
MODULE_PATH = "/usr/lib/baresip/modules"
LOOPBACK = "127.0.0.1"
DEFAULT_REGINT_S = 600
DEFAULT_SOURCE_SECONDS = 600.0  # aufile hangs up at end of file: keep the source longer than any call
DEFAULT_RTP_SPAN = 20
RTP_BAND = (40000, 59000)  # where allocate_ports() looks for RTP ranges
START_TIMEOUT_S = 5.0
REGISTER_TIMEOUT_S = 5.0
COMMAND_TIMEOUT_S = 5.0
WAIT_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
FAILED_STOP_TIMEOUT_S = 1.0  # a phone that never registered may sit on a REGISTER retransmission
KILL_TIMEOUT_S = 2.0
POLL_S = 0.05
EMPTY_RECORDING_SETTLE_S = 2.0  # a bare header that stays bare this long: nothing was heard
WAV_HEADER_BYTES = 44
RECORDING_SETTLE_S = 6.0
LOG_TAIL_LINES = 25
DTMF_PRESS_S = 0.12  # how long a digit is held (RFC 4733 event duration)
DTMF_GAP_S = 0.12
DTMF_DIGITS = frozenset("0123456789*#ABCD")
KEYCODE_REL = "\x04"  # baresip's key-release code: ends the DTMF event of the last key
RIFF_HEADER = struct.Struct("<4sI4s")
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
UNSAFE_IN_ACCOUNT = re.compile(r"[;<>\"\s,]")
REG_STATES = ("OK", "ERR", "zzz")

_handed_out: set[int] = set()


class PhoneError(RuntimeError):
    """A phone could not start, answer a command, or see an expected event; the message says why."""


class RegistrationError(PhoneError):
    """The phone started but Asterisk refused (or never answered) its REGISTER."""


# --------------------------------------------------------------------------------------------- ports


def _bindable(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _free(port: int) -> bool:
    """Free on loopback for both UDP and TCP, and not yet handed to another phone of this process."""
    return (
        port not in _handed_out
        and _bindable(port, socket.SOCK_DGRAM)
        and _bindable(port, socket.SOCK_STREAM)
    )


def free_port(span: int = 1) -> int:
    """A port P with P..P+span-1 free (UDP and TCP); span=2 suits sip_listen (TLS takes P+1)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((LOOPBACK, 0))
            port = sock.getsockname()[1]
        if all(_free(p) for p in range(port, port + span)):
            _handed_out.update(range(port, port + span))
            return port
    raise PhoneError(f"no block of {span} free loopback ports found")


def free_rtp_range(span: int = DEFAULT_RTP_SPAN) -> tuple[int, int]:
    """An even-aligned block of UDP ports in RTP_BAND nobody uses, so parallel phones never share one.

    Every aligned block of the band is tried once, from a random one on, so a band fragmented by
    many phones still yields a block while one exists (200 random tries did not, late in a long run).
    """
    starts = range(RTP_BAND[0], RTP_BAND[1] - span + 1, 2)
    first = random.randrange(len(starts))
    for index in range(len(starts)):
        start = starts[(first + index) % len(starts)]
        ports = range(start, start + span)
        if _handed_out.isdisjoint(ports) and all(_bindable(p, socket.SOCK_DGRAM) for p in ports):
            _handed_out.update(ports)
            return start, start + span - 1
    raise PhoneError(f"no free RTP range of {span} ports in {RTP_BAND}")


def give_back(ports: Iterable[int]) -> None:
    """Return ports handed out by free_port or free_rtp_range once their user has stopped."""
    _handed_out.difference_update(ports)


@dataclass(frozen=True)
class PhonePorts:
    """Every loopback port one baresip instance binds."""

    sip: int  # UDP and TCP sip; TLS on sip+1
    ctrl: int  # ctrl_tcp JSON control
    cons: int  # cons key input (used for DTMF)
    rtp: tuple[int, int]

    @classmethod
    def allocate(cls, rtp_span: int = DEFAULT_RTP_SPAN) -> PhonePorts:
        return cls(sip=free_port(span=2), ctrl=free_port(), cons=free_port(), rtp=free_rtp_range(rtp_span))


def _chosen_ports(ports: PhonePorts, sip: int | None, ctrl: int | None, cons: int | None,
                  rtp: tuple[int, int] | None) -> frozenset[int]:
    """Which of a phone's ports were allocated for it rather than passed in."""
    chosen: set[int] = set()
    if sip is None:
        chosen.update((ports.sip, ports.sip + 1))
    if ctrl is None:
        chosen.add(ports.ctrl)
    if cons is None:
        chosen.add(ports.cons)
    if rtp is None:
        chosen.update(range(ports.rtp[0], ports.rtp[1] + 1))
    return frozenset(chosen)


# -------------------------------------------------------------------------------------------- events


@dataclass(frozen=True)
class PhoneEvent:
    """One ctrl_tcp event, e.g. CALL_ESTABLISHED; `raw` keeps every field baresip sent."""

    type: str
    raw: dict[str, Any]

    @property
    def call_id(self) -> str | None:
        return self.raw.get("id")

    @property
    def param(self) -> str | None:
        return self.raw.get("param")

    @property
    def peer_uri(self) -> str | None:
        return self.raw.get("peeruri")

    @property
    def direction(self) -> str | None:
        return self.raw.get("direction")


@dataclass(frozen=True)
class CommandResult:
    """baresip's reply to one command: ok flag and the text the command printed."""

    ok: bool
    data: str


@dataclass
class _EventLog:
    """All events so far; each wait_for consumes the oldest unconsumed match, so none is ever missed."""

    events: list[PhoneEvent] = field(default_factory=list)
    consumed: set[int] = field(default_factory=set)

    def take(self, event_type: str, call_id: str | None) -> PhoneEvent | None:
        for index, event in enumerate(self.events):
            if index in self.consumed or event.type != event_type:
                continue
            if call_id is not None and event.call_id != call_id:
                continue
            self.consumed.add(index)
            return event
        return None


# --------------------------------------------------------------------------------------------- phone


def _check_account(name: str, username: str, password: str, server_host: str, listen_host: str,
                   *, register: bool) -> None:
    """Refuse values that would break a path or baresip's account line before anything runs."""
    if not NAME_RE.match(name):
        raise ValueError(f"phone name {name!r} must match {NAME_RE.pattern} (used in paths)")
    checked = [("username", username), ("server_host", server_host), ("listen_host", listen_host)]
    if register or password:
        checked.append(("password", password))
    for label, value in checked:
        if not value or UNSAFE_IN_ACCOUNT.search(value):
            raise ValueError(f"{label} {value!r} is empty or would break the baresip account line")
    if not listen_host.startswith("127."):
        raise ValueError(f"listen_host {listen_host!r} must be a loopback address (127.x.y.z)")


class BaresipPhone:
    """One SIP phone (a baresip subprocess) registered as `username` on Asterisk at server_host:port.

    Usage: `async with BaresipPhone(...) as phone:` starts and registers it, and stops it on exit.
    Everything the phone writes (config dir, log, padded audio source, recordings) lives under
    `work_dir / name`. Ports left as None are picked free on loopback: `sip_port` needs UDP and TCP
    on the port and TCP on port+1 (baresip's TLS listener), so give explicit ones two apart.

    `listen_host` is the loopback address SIP and RTP use (e.g. 127.0.0.2 for a phone standing in
    for an outside line, which Asterisk's trunk identifies by address); the control sockets stay on
    127.0.0.1. With `register=False` the phone never registers (regint=0, no password needed): it
    only listens, and baresip hands it every INVITE whose request-URI user is `username`.
    """

    def __init__(
        self,
        name: str,
        *,
        server_host: str,
        server_port: int,
        username: str,
        password: str,
        work_dir: Path,
        sip_port: int | None = None,
        rtp_ports: tuple[int, int] | None = None,
        ctrl_port: int | None = None,
        cons_port: int | None = None,
        audio_source: Path | None = None,
        auto_answer: bool = False,
        record: bool = True,
        listen_host: str = LOOPBACK,
        register: bool = True,
        regint_s: int = DEFAULT_REGINT_S,
        source_seconds: float = DEFAULT_SOURCE_SECONDS,
        baresip_bin: str = BARESIP_BIN,
    ) -> None:
        _check_account(name, username, password, server_host, listen_host, register=register)
        self.name = name
        self.server_host = server_host
        self.server_port = server_port
        self.username = username
        self.password = password
        self.listen_host = listen_host
        self.register = register
        self.ports = PhonePorts(
            sip=sip_port if sip_port is not None else free_port(span=2),
            ctrl=ctrl_port if ctrl_port is not None else free_port(),
            cons=cons_port if cons_port is not None else free_port(),
            rtp=rtp_ports if rtp_ports is not None else free_rtp_range(),
        )
        # The ports this phone chose itself, given back when it stops (a long test run or
        # simulation starts many hundred phones; ports passed in belong to the caller).
        self._own_ports = _chosen_ports(self.ports, sip_port, ctrl_port, cons_port, rtp_ports)
        self.audio_source = audio_source
        self.auto_answer = auto_answer
        self.record = record
        self.regint_s = regint_s
        self.source_seconds = source_seconds
        self.baresip_bin = baresip_bin
        self.dir = Path(work_dir) / name
        self.conf_dir = self.dir / "conf"
        self.recordings_dir = self.dir / "recordings"
        self.log_path = self.dir / "baresip.log"
        self.source_path = self.dir / "source.wav"
        self._proc: asyncio.subprocess.Process | None = None
        self._log_file: BinaryIO | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._read_task: asyncio.Task[None] | None = None
        self._pending: dict[str, asyncio.Future[CommandResult]] = {}
        self._tokens = itertools.count(1)
        self._log = _EventLog()
        self._cond = asyncio.Condition()
        self._ctrl_closed = False

    # ------------------------------------------------------------------ identity

    @property
    def aor(self) -> str:
        """The address of record baresip registers (also how `reginfo` names this UA)."""
        return f"sip:{self.username}@{self.server_host}:{self.server_port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None

    @property
    def events(self) -> list[PhoneEvent]:
        """Every event received so far, oldest first."""
        return list(self._log.events)

    def uri_for(self, target: str) -> str:
        """`7002` -> `sip:7002@host:port` on this phone's server; full SIP URIs pass unchanged."""
        if target.startswith(("sip:", "sips:")):
            return target
        if "@" in target:
            return f"sip:{target}"
        return f"sip:{target}@{self.server_host}:{self.server_port}"

    # ------------------------------------------------------------------ config

    def config_text(self) -> str:
        """The baresip `config`: loopback only, only the modules a test phone needs."""
        rtp_low, rtp_high = self.ports.rtp
        lines = [
            "# written by hotline.phones.baresip for one test phone",
            "poll_method epoll",
            f"sip_listen {self.listen_host}:{self.ports.sip}",  # also TCP on it and TLS on port+1
            f"net_interface {self.listen_host}",  # an address, not `lo`; RTP binds it too
            "call_local_timeout 120",
            "call_max_calls 4",
            f"audio_source aufile,{self.source_path}",
            # aubridge devices nobody sources from: a null player; sndfile taps the decoded audio first.
            f"audio_player aubridge,{self.name}-play",
            f"audio_alert aubridge,{self.name}-alert",
            f"rtp_ports {rtp_low}-{rtp_high}",
            f"module_path {MODULE_PATH}",
            "module g711.so",
            "module aufile.so",
            "module aubridge.so",
            "module cons.so",
        ]
        if self.record:
            lines.append("module sndfile.so")
        lines += [
            "module_tmp account.so",
            "module_app menu.so",  # provides the dial/accept/hangup/reginfo/uadel/quit commands
            "module_app ctrl_tcp.so",
            f"ctrl_tcp_listen {LOOPBACK}:{self.ports.ctrl}",
            f"cons_listen {LOOPBACK}:{self.ports.cons}",
            f"snd_path {self.recordings_dir}",
            "statmode_default off",  # else menu prints a status line to the log many times a second
            "ringback_disabled yes",
        ]
        return "\n".join(lines) + "\n"

    def account_text(self) -> str:
        """One account line: digest password, registration interval, auto or manual answer, G.711 only.

        A phone that does not register gets regint=0 (and credentials only if it was given a password).
        """
        answermode = "auto" if self.auto_answer else "manual"
        if self.register:
            auth = f";auth_user={self.username};auth_pass={self.password};regint={self.regint_s}"
        else:
            auth = (f";auth_user={self.username};auth_pass={self.password}" if self.password else "")
            auth += ";regint=0"
        return (
            f"<sip:{self.username}@{self.server_host}:{self.server_port};transport=udp>{auth}"
            f";answermode={answermode};audio_codecs=PCMU/8000/1,PCMA/8000/1\n"
        )

    def write_config(self) -> None:
        """Write config, accounts and contacts (baresip would otherwise invent default ones)."""
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.recordings_dir.mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "config").write_text(self.config_text(), encoding="utf-8")
        (self.conf_dir / "accounts").write_text(self.account_text(), encoding="utf-8")
        (self.conf_dir / "contacts").write_text("# none: phones dial numbers or URIs\n", encoding="utf-8")

    def prepare_source(self) -> Path:
        """The audio this phone sends, as 8 kHz mono, padded with silence so the call is never cut short."""
        if self.audio_source is None:
            return audio.silence(self.source_path, self.source_seconds)
        if not Path(self.audio_source).exists():
            raise PhoneError(f"{self.name}: audio source {self.audio_source} does not exist")
        return audio.to_telephony(Path(self.audio_source), self.source_path, pad_to=self.source_seconds)

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> BaresipPhone:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self, register_timeout: float = REGISTER_TIMEOUT_S) -> None:
        """Write the config, spawn `baresip -f`, connect ctrl_tcp, wait until registered (phones that
        register) or until its account is up (phones that only listen); once per phone."""
        if self._proc is not None:
            raise PhoneError(f"{self.name}: already started; make a new BaresipPhone to start again")
        if shutil.which(self.baresip_bin) is None:
            raise PhoneError(f"{self.name}: {self.baresip_bin} not found (Debian package baresip-core)")
        setpriv = shutil.which(SETPRIV_BIN)
        if setpriv is None:
            raise PhoneError(f"{self.name}: {SETPRIV_BIN} not found (Debian package util-linux)")
        self.write_config()
        self.prepare_source()
        self._log_file = self.log_path.open("wb")
        try:
            self._proc = await asyncio.create_subprocess_exec(
                setpriv, "--pdeathsig", PARENT_DEATH_SIGNAL, "--",
                self.baresip_bin, "-f", str(self.conf_dir),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=self._log_file,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the test runner must not hit the phone first
            )
        except OSError as exc:
            self._log_file.close()
            self._log_file = None
            raise PhoneError(f"{self.name}: could not run {self.baresip_bin}: {exc}") from exc
        try:
            await self._connect_ctrl(START_TIMEOUT_S)
            if self.register:
                await self._wait_registered(register_timeout)
            else:
                await self._wait_listed(register_timeout)
        except BaseException:
            await self.stop(timeout=FAILED_STOP_TIMEOUT_S)
            raise

    async def _connect_ctrl(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        last_error: OSError | None = None
        while loop.time() < deadline:
            self._raise_if_exited("before its control socket came up")
            try:
                self._reader, self._writer = await asyncio.open_connection(LOOPBACK, self.ports.ctrl)
            except OSError as exc:
                last_error = exc
                await asyncio.sleep(POLL_S)
                continue
            self._read_task = asyncio.create_task(self._read_loop(), name=f"baresip-{self.name}-ctrl")
            return
        raise PhoneError(
            f"{self.name}: ctrl_tcp on {LOOPBACK}:{self.ports.ctrl} not reachable within {timeout}s "
            f"({last_error}); baresip log tail:\n{self.log_tail()}"
        )

    async def _wait_registered(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        state = "none"
        while loop.time() < deadline:
            self._raise_if_exited("before registering")
            failed = next((e for e in self._log.events if e.type == "REGISTER_FAIL"), None)
            if failed is not None:
                raise RegistrationError(
                    f"{self.name}: registration of {self.aor} failed: {failed.param}\n"
                    f"baresip log tail:\n{self.log_tail()}"
                )
            state = await self.registration_state()
            if state == "OK":
                return
            if state == "ERR":
                raise RegistrationError(
                    f"{self.name}: registration of {self.aor} at {self.server_host}:{self.server_port} "
                    f"failed (reginfo ERR)\nbaresip log tail:\n{self.log_tail()}"
                )
            await asyncio.sleep(POLL_S)
        raise RegistrationError(
            f"{self.name}: {self.aor} not registered within {timeout}s (state {state}); is Asterisk "
            f"listening on {self.server_host}:{self.server_port}?\nbaresip log tail:\n{self.log_tail()}"
        )

    async def _wait_listed(self, timeout: float) -> None:
        """A phone that does not register is ready once `reginfo` lists its account (the SIP listener
        is bound before the ctrl socket comes up)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            self._raise_if_exited("before its account was up")
            if await self.registration_state() != "none":
                return
            await asyncio.sleep(POLL_S)
        raise PhoneError(
            f"{self.name}: account {self.aor} not listed by reginfo within {timeout}s\n"
            f"baresip log tail:\n{self.log_tail()}"
        )

    def _raise_if_exited(self, when: str) -> None:
        if self._proc is not None and self._proc.returncode is not None:
            raise PhoneError(
                f"{self.name}: baresip exited with {self._proc.returncode} {when}; "
                f"log tail:\n{self.log_tail()}"
            )

    async def stop(self, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """Ask baresip to quit (it unregisters first); kill it if it does not exit in time."""
        proc = self._proc
        if proc is None:
            return None
        if proc.returncode is None and self._writer is not None and not self._ctrl_closed:
            with contextlib.suppress(OSError, PhoneError):
                self._send({"command": "quit", "token": "quit"})
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            # baresip's first SIGTERM is another graceful stop (which may wait on a REGISTER
            # retransmission); its second one exits at once.
            for _ in range(2):
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                await asyncio.sleep(POLL_S)
            try:
                await asyncio.wait_for(proc.wait(), KILL_TIMEOUT_S)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        await self._close_ctrl()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        give_back(self._own_ports)
        return proc.returncode

    async def _close_ctrl(self) -> None:
        await cancel_and_wait(self._read_task)
        self._read_task = None
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(OSError):
                await self._writer.wait_closed()
            self._writer = None

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The end of baresip's own output, for error messages."""
        if not self.log_path.exists():
            return "(no baresip log yet)"
        text = ANSI_RE.sub("", self.log_path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(text.splitlines()[-lines:])

    # ------------------------------------------------------------------ ctrl_tcp

    def _send(self, message: dict[str, str]) -> None:
        if self._writer is None:
            raise PhoneError(f"{self.name}: not connected")
        body = json.dumps(message).encode()
        self._writer.write(str(len(body)).encode() + b":" + body + b",")

    async def command(
        self, command: str, params: str | None = None, *,
        timeout: float = COMMAND_TIMEOUT_S, check: bool = True,
    ) -> CommandResult:
        """Run one baresip long command and return its reply; `check` raises when baresip says not ok."""
        if self._ctrl_closed:
            raise PhoneError(f"{self.name}: control connection closed; log tail:\n{self.log_tail()}")
        token = f"{self.name}-{next(self._tokens)}"
        message = {"command": command, "token": token}
        if params is not None:
            message["params"] = params
        future: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._pending[token] = future
        try:
            self._send(message)
            assert self._writer is not None
            await self._writer.drain()
            result = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise PhoneError(
                f"{self.name}: no reply to {command!r} within {timeout}s; log tail:\n{self.log_tail()}"
            ) from None
        finally:
            self._pending.pop(token, None)
        if check and not result.ok:
            raise PhoneError(f"{self.name}: {command} {params or ''} failed: {result.data.strip()}")
        return result

    async def _read_loop(self) -> None:
        """Split the byte stream into netstrings before decoding (JSON may carry multi-byte text)."""
        assert self._reader is not None
        try:
            while True:
                header = await self._reader.readuntil(b":")
                length = int(header[:-1].strip() or b"0")
                body = await self._reader.readexactly(length)
                if await self._reader.readexactly(1) != b",":
                    raise PhoneError(f"{self.name}: bad netstring framing from ctrl_tcp")
                await self._dispatch(json.loads(body.decode("utf-8", errors="replace")))
        except (asyncio.IncompleteReadError, ConnectionError, ValueError, PhoneError):
            pass
        finally:
            self._ctrl_closed = True
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(PhoneError(f"{self.name}: control connection closed"))
            async with self._cond:
                self._cond.notify_all()

    async def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("response"):
            future = self._pending.get(str(message.get("token")))
            if future is not None and not future.done():
                ok, data = bool(message.get("ok")), str(message.get("data", ""))
                future.set_result(CommandResult(ok=ok, data=data))
        elif message.get("event"):
            async with self._cond:
                self._log.events.append(PhoneEvent(type=str(message.get("type")), raw=message))
                self._cond.notify_all()

    # ------------------------------------------------------------------ phone actions

    async def registration_state(self) -> str:
        """OK, ERR or zzz (not yet / no longer registered) from `reginfo`; `none` if this UA is gone."""
        result = await self.command("reginfo")
        for line in ANSI_RE.sub("", result.data).splitlines():
            if self.aor in line:
                return next((word for word in line.split() if word in REG_STATES), "unknown")
        return "none"

    async def dial(self, target: str) -> None:
        """Call a number on this phone's server (`7002`) or a full SIP URI."""
        await self.command("dial", self.uri_for(target))

    async def answer(self) -> None:
        """Accept the ringing incoming call (phones created with auto_answer=False)."""
        await self.command("accept")

    async def hangup(self) -> None:
        """Hang up the current call (also rejects a ringing one)."""
        await self.command("hangup")

    async def send_dtmf(self, digits: str, press_s: float = DTMF_PRESS_S, gap_s: float = DTMF_GAP_S) -> None:
        """Send RFC 4733 DTMF in the current call: each digit is a key press then a key release on `cons`."""
        bad = set(digits) - DTMF_DIGITS
        if bad:
            raise ValueError(f"not DTMF digits: {''.join(sorted(bad))!r}")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for digit in digits:
                sock.sendto(digit.encode(), (LOOPBACK, self.ports.cons))
                await asyncio.sleep(press_s)
                sock.sendto(KEYCODE_REL.encode(), (LOOPBACK, self.ports.cons))
                await asyncio.sleep(gap_s)

    async def wait_for(
        self, event_type: str, timeout: float = WAIT_TIMEOUT_S, *, call_id: str | None = None
    ) -> PhoneEvent:
        """The oldest not-yet-waited-for event of this type (even one that came before the call)."""

        def ready() -> PhoneEvent | bool | None:
            return self._log.take(event_type, call_id) or self._ctrl_closed

        async with self._cond:
            try:
                found = await asyncio.wait_for(self._cond.wait_for(ready), timeout)
            except TimeoutError:
                found = None
        if isinstance(found, PhoneEvent):
            return found
        seen = ", ".join(e.type for e in self._log.events) or "none"
        why = "control connection closed" if self._ctrl_closed else f"not within {timeout}s"
        raise PhoneError(
            f"{self.name}: no {event_type} event ({why}); events so far: {seen}\n"
            f"baresip log tail:\n{self.log_tail()}"
        )

    async def unregister(self, timeout: float = REGISTER_TIMEOUT_S) -> None:
        """Delete the user agent, which sends REGISTER with Expires: 0; the phone stays up but unreachable."""
        await self.command("uadel", self.aor)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if await self.registration_state() == "none":
                return
            await asyncio.sleep(POLL_S)
        raise PhoneError(f"{self.name}: {self.aor} still listed after uadel; log tail:\n{self.log_tail()}")

    # ------------------------------------------------------------------ recordings

    def recording_paths(self) -> list[Path]:
        """Wav dumps of what this phone heard, one per call, oldest first (needs record=True)."""
        return sorted(self.recordings_dir.glob("dump-*-dec.wav"))

    def sent_paths(self) -> list[Path]:
        """Wav dumps of what this phone sent, one per call, oldest first."""
        return sorted(self.recordings_dir.glob("dump-*-enc.wav"))

    async def finished_recordings(self, timeout: float = RECORDING_SETTLE_S) -> list[Path]:
        """recording_paths() once every file's header is final (baresip closes it just after CALL_CLOSED).

        A file of a bare header is also consistent, both when nothing was heard and just after
        baresip opened it, before its first frame (seen under load): it counts once it stayed
        bare for EMPTY_RECORDING_SETTLE_S.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        bare_since: dict[Path, float] = {}
        while True:
            paths = self.recording_paths()
            if paths and all(self._settled(p, bare_since, loop.time()) for p in paths):
                return paths
            if loop.time() >= deadline:
                raise PhoneError(
                    f"{self.name}: recordings not complete after {timeout}s: {[str(p) for p in paths]}"
                )
            await asyncio.sleep(POLL_S)

    @staticmethod
    def _settled(path: Path, bare_since: dict[Path, float], now: float) -> bool:
        if not _wav_complete(path):
            return False
        if _wav_has_frames(path):
            return True
        return now - bare_since.setdefault(path, now) >= EMPTY_RECORDING_SETTLE_S


def _wav_has_frames(path: Path) -> bool:
    """More than a canonical 44-byte header: at least one sample was written."""
    try:
        return path.stat().st_size > WAV_HEADER_BYTES
    except OSError:
        return False


def _wav_complete(path: Path) -> bool:
    """libsndfile writes the real RIFF size when it closes the file: size field == file size - 8."""
    try:
        with path.open("rb") as handle:
            header = handle.read(RIFF_HEADER.size)
        size = path.stat().st_size
    except OSError:
        return False
    if len(header) < RIFF_HEADER.size:
        return False
    riff, riff_size, wave_tag = RIFF_HEADER.unpack(header)
    return riff == b"RIFF" and wave_tag == b"WAVE" and riff_size == size - 8

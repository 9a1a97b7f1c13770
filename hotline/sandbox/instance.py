"""One sandbox Asterisk: a rendered configuration running in the cached root through chroot.

Each instance lives in `/srv/hotline/<name>` inside the root with its own etc, run, spool, log,
lib and data directories, so several instances (each with its own ports in its own rendered
configuration) run side by side. The instance's asterisk.conf is written here, not rendered: it
only names directories and never adds a listener.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NoReturn

from hotline.sandbox.errors import SandboxError
from hotline.sandbox.root import (
    ASTERISK_BINARY,
    ensure_root,
    is_complete,
    require_root_user,
    root_version,
)

INSTANCES_DIR = "/srv/hotline"
INSTANCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
INSTANCE_SUBDIRS = ("etc", "run", "spool", "log", "lib", "data")
MANIFEST_NAME = "hotline-pbx.json"
STATE_NAME = "sandbox-state.json"
OUTPUT_LOG = "log/asterisk.out"
MESSAGES_LOG = "log/messages"
ASTERISK_PID_FILE = "run/asterisk.pid"
CONTROL_SOCKET = "run/asterisk.ctl"
CONF_GLOB = "*.conf"
ASTERISK_CONF = "asterisk.conf"
# Stock content Debian installs under astdatadir; the instance's data/ links to it.
STOCK_DATA_DIR = "/usr/share/asterisk"
RENDERED_SOUNDS = "sounds/hotline"
MODULE_LINE = re.compile(r"^(load|require|preload|preload-require)\s*=>?\s*(\S+\.so)$")
# A `module show` row: name, description, use count, status, support level.
MODULE_ROW = re.compile(r"^(\S+)\s.*\s-?\d+\s+(Running|Not Running)\s+\S+\s*$")
UNSPECIFIED_ADDRESSES = frozenset({"", "0.0.0.0", "::", "[::]"})

BOOT_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
KILL_WAIT_S = 5.0
CLI_TIMEOUT_S = 30.0
AMI_CONNECT_TIMEOUT_S = 2.0
POLL_INTERVAL_S = 0.05
LOG_TAIL_LINES = 40
NOT_CONNECTED = "Unable to connect to remote asterisk"
FULLY_BOOTED = "fully booted"
AMI_BANNER = b"Asterisk Call Manager/"
CHROOT_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "HOME": "/root"}


@dataclass(frozen=True)
class AmiAccess:
    """How a client reaches this instance's manager interface."""

    host: str
    port: int
    username: str
    secret: str


@dataclass(frozen=True)
class SipBind:
    """Where this instance's PJSIP transport listens."""

    bind: str
    port: int


@dataclass(frozen=True)
class SandboxStatus:
    """A snapshot of one instance, for the CLI and for tests wiring clients to it."""

    name: str
    running: bool
    pid: int | None
    root: Path
    pbx_dir: str
    ami: AmiAccess | None
    sip: SipBind | None
    version: str | None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["root"] = str(self.root)
        return data


def read_manifest(rendered_dir: Path) -> tuple[AmiAccess, SipBind]:
    """Read the renderer's hotline-pbx.json: the ports and AMI login of that configuration."""
    path = rendered_dir / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        ami_data, sip_data = data["ami"], data["sip"]
        ami = AmiAccess(host=str(ami_data["host"]), port=int(ami_data["port"]),
                        username=str(ami_data["username"]), secret=str(ami_data["secret"]))
        sip = SipBind(bind=str(sip_data["bind"]), port=int(sip_data["port"]))
    except FileNotFoundError as exc:
        raise SandboxError(f"{path} 不存在：请先生成交换机配置") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SandboxError(f"{path} 不是有效的交换机清单（应为 "
                           '{"ami": {"host","port","username","secret"}, '
                           f'"sip": {{"bind","port"}}}}）：{exc!r}') from exc
    return ami, sip


def listed_modules(modules_conf: Path) -> list[str]:
    """Modules that modules.conf asks to load (load, require, preload…), in file order."""
    try:
        text = modules_conf.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    names = []
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        match = MODULE_LINE.match(line)
        if match and match.group(2) not in names:
            names.append(match.group(2))
    return names


def modules_dir(root: Path) -> str:
    """The root's Asterisk module directory (multiarch path), as seen inside the root."""
    found = sorted(root.glob("usr/lib/*/asterisk/modules"))
    if not found:
        raise SandboxError(f"{root} 中没有 Asterisk 模块目录")
    return "/" + str(found[0].relative_to(root))


class SandboxPbx:
    """One named Asterisk instance inside the shared root, configured from a rendered dir."""

    def __init__(self, name: str, rendered_dir: Path, *, root: Path | None = None) -> None:
        if not INSTANCE_NAME.match(name):
            raise SandboxError(f"实例名称“{name}”不合规：须符合 {INSTANCE_NAME.pattern}")
        self.name = name
        self.rendered_dir = Path(rendered_dir).resolve()
        self.root = (root if root is not None else ensure_root()).resolve()
        self._process: subprocess.Popen[bytes] | None = None

    # --- paths -----------------------------------------------------------------------------

    @property
    def pbx_dir(self) -> str:
        """The instance directory as the PBX sees it."""
        return f"{INSTANCES_DIR}/{self.name}"

    @property
    def instance_dir(self) -> Path:
        """The instance directory as the host sees it."""
        return self.host_path(self.pbx_dir)

    @property
    def conf_path(self) -> str:
        return f"{self.pbx_dir}/etc/{ASTERISK_CONF}"

    def host_path(self, pbx_path: str) -> Path:
        """Map an absolute path inside the PBX to the host; refuse paths leaving the root."""
        if not pbx_path.startswith("/"):
            raise SandboxError(f"交换机路径“{pbx_path}”必须是绝对路径")
        normal = posixpath.normpath(pbx_path).lstrip("/")
        return self.root / normal if normal not in ("", ".") else self.root

    # --- lifecycle -------------------------------------------------------------------------

    def up(self, timeout: float = BOOT_TIMEOUT_S) -> SandboxStatus:
        """(Re)start the instance with the rendered configuration; return once fully booted."""
        require_root_user()
        if not is_complete(self.root):
            raise SandboxError(f"{self.root} 不是完整的 Asterisk 根目录：请先运行 hotline sandbox build")
        ami, sip = read_manifest(self.rendered_dir)
        for what, address in (("AMI 地址", ami.host), ("SIP 绑定地址", sip.bind)):
            if address.strip() in UNSPECIFIED_ADDRESSES:
                raise SandboxError(f"{MANIFEST_NAME} 中的{what}“{address}”会监听所有网卡；"
                                   "沙箱只绑定指定的地址")
        if self._live_pid() is not None:
            self.down()
        _check_free(ami.host, ami.port, socket.SOCK_STREAM, "AMI")
        _check_free(sip.bind, sip.port, socket.SOCK_DGRAM, "SIP")
        deadline = time.monotonic() + timeout
        self._prepare()
        self._launch()
        self._wait_booted(deadline)
        self._check_modules()
        self._wait_ami(ami, deadline)
        return self.status()

    def down(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Stop the instance (`core stop now`, then SIGKILL after `timeout`); idempotent."""
        pid = self._live_pid()
        if pid is not None:
            # The process check below decides; a stuck console must not stop us.
            with contextlib.suppress(SandboxError):
                self._run_cli("core stop now", timeout=timeout)
            if not self._wait_gone(pid, timeout):
                _kill_group(pid)
                if not self._wait_gone(pid, KILL_WAIT_S):
                    raise SandboxError(f"实例 {self.name}（pid {pid}）在 SIGKILL 之后仍未退出")
        self._reap()
        (self.instance_dir / STATE_NAME).unlink(missing_ok=True)

    def restart(self, timeout: float = BOOT_TIMEOUT_S) -> SandboxStatus:
        """Stop and start again, re-reading the rendered configuration."""
        self.down()
        return self.up(timeout=timeout)

    def remove(self) -> None:
        """Stop the instance and delete its directory (logs, spool, astdb included)."""
        self.down()
        if self.instance_dir.exists():
            shutil.rmtree(self.instance_dir)

    def status(self) -> SandboxStatus:
        try:
            ami, sip = read_manifest(self.rendered_dir)
        except SandboxError:
            ami, sip = None, None
        pid = self._live_pid()
        return SandboxStatus(name=self.name, running=pid is not None, pid=pid, root=self.root,
                             pbx_dir=self.pbx_dir, ami=ami, sip=sip,
                             version=root_version(self.root))

    def cli(self, command: str, timeout: float = CLI_TIMEOUT_S) -> str:
        """Run one Asterisk CLI command in this instance and return its output."""
        if self._live_pid() is None:
            raise SandboxError(f"实例 {self.name} 没有运行")
        return self._run_cli(command, timeout=timeout)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The end of Asterisk's output of this run (or of its messages log), to explain a failure.

        The output log is truncated at each start, so its tail is this run's; the messages log
        (if logger.conf writes one) is only the fallback because it spans every run.
        """
        for relative in (OUTPUT_LOG, MESSAGES_LOG):
            path = self.instance_dir / relative
            try:
                text = path.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            if text:
                return (f"--- {self.pbx_dir}/{relative} (last {lines} lines) ---\n"
                        + "\n".join(text[-lines:]))
        return f"(no log written under {self.pbx_dir}/log)"

    # --- internals -------------------------------------------------------------------------

    def _prepare(self) -> None:
        """Fresh etc/ and data/ from the rendered dir; run/spool/log/lib persist across runs."""
        base = self.instance_dir
        for sub in INSTANCE_SUBDIRS:
            (base / sub).mkdir(parents=True, exist_ok=True)
        etc = base / "etc"
        for old in etc.iterdir():
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old)
            else:
                old.unlink()
        for conf in sorted(self.rendered_dir.glob(CONF_GLOB)):
            if conf.name != ASTERISK_CONF:
                shutil.copy2(conf, etc / conf.name)
        (etc / ASTERISK_CONF).write_text(self._asterisk_conf(), encoding="utf-8")
        self._prepare_data(base / "data")
        (base / OUTPUT_LOG).unlink(missing_ok=True)

    def _prepare_data(self, data: Path) -> None:
        """astdatadir: links to the root's stock content plus a copy of the rendered sounds.

        Asterisk looks up `hotline/greeting` with channel language zh as sounds/zh/hotline/…,
        then sounds/hotline/… (no language), then sounds/en/hotline/…; so sounds/hotline serves
        every language, while the stock prompts stay under sounds/en.
        """
        shutil.rmtree(data, ignore_errors=True)
        sounds = data / "sounds"
        sounds.mkdir(parents=True)
        stock = self.host_path(STOCK_DATA_DIR)
        for entry in sorted(stock.iterdir()):
            if entry.name != "sounds":
                (data / entry.name).symlink_to(f"{STOCK_DATA_DIR}/{entry.name}")
        for entry in sorted((stock / "sounds").iterdir()):
            (sounds / entry.name).symlink_to(f"{STOCK_DATA_DIR}/sounds/{entry.name}")
        rendered_sounds = self.rendered_dir / RENDERED_SOUNDS
        if rendered_sounds.is_dir():
            target = data / RENDERED_SOUNDS
            if target.is_symlink():
                target.unlink()
            shutil.copytree(rendered_sounds, target)

    def _asterisk_conf(self) -> str:
        pbx = self.pbx_dir
        lines = [
            "; Written by hotline.sandbox for instance " + self.name + "; do not edit.",
            "[directories]",
            f"astetcdir => {pbx}/etc",
            f"astmoddir => {modules_dir(self.root)}",
            f"astvarlibdir => {pbx}/lib",
            f"astdbdir => {pbx}/lib",
            f"astkeydir => {pbx}/lib",
            f"astcachedir => {pbx}/lib/cache",
            f"astdatadir => {pbx}/data",
            f"astagidir => {STOCK_DATA_DIR}/agi-bin",
            f"astspooldir => {pbx}/spool",
            f"astrundir => {pbx}/run",
            f"astlogdir => {pbx}/log",
            "astsbindir => /usr/sbin",
            "",
            "[options]",
            "verbose = 0",
            "debug = 0",
            "nocolor = yes",
            "",
        ]
        return "\n".join(lines)

    def _launch(self) -> None:
        output = (self.instance_dir / OUTPUT_LOG).open("ab")
        try:
            self._process = subprocess.Popen(
                ["chroot", str(self.root), ASTERISK_BINARY, "-f", "-C", self.conf_path],
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True, env=CHROOT_ENV)
        finally:
            output.close()
        state = {"pid": self._process.pid, "started": time.time(), "conf": self.conf_path,
                 "root": str(self.root)}
        (self.instance_dir / STATE_NAME).write_text(json.dumps(state), encoding="utf-8")

    def _wait_booted(self, deadline: float) -> None:
        """Poll until `core waitfullybooted` answers; fail fast if Asterisk exits instead."""
        socket_path = self.instance_dir / CONTROL_SOCKET
        process = self._process
        assert process is not None
        while time.monotonic() < deadline:
            code = process.poll()
            if code is not None:
                self._fail_start(f"在启动过程中退出（退出码 {code}）")
            if socket_path.exists():
                remaining = max(deadline - time.monotonic(), POLL_INTERVAL_S)
                try:
                    output = self._run_cli("core waitfullybooted", timeout=remaining)
                except SandboxError:
                    output = ""
                # A console that loses its server mid-boot also exits 0: check both.
                if FULLY_BOOTED in output and process.poll() is None:
                    return
            time.sleep(POLL_INTERVAL_S)
        self._fail_start("没有在限定时间内完成启动")

    def _check_modules(self) -> None:
        """With autoload=no a module whose dependency is not listed silently declines to load
        (chan_pjsip without res_pjsip_pubsub: no phone can register); refuse such a start."""
        wanted = listed_modules(self.instance_dir / "etc" / "modules.conf")
        if not wanted:
            return
        shown = self._run_cli("module show", timeout=CLI_TIMEOUT_S)
        loaded = {m.group(1) for m in map(MODULE_ROW.match, shown.splitlines())
                  if m and m.group(2) == "Running"}
        missing = [name for name in wanted if name not in loaded]
        if missing:
            stems = tuple(name.removesuffix(".so") for name in missing)
            output = self.instance_dir / OUTPUT_LOG
            lines = output.read_text(encoding="utf-8", errors="replace").splitlines() \
                if output.is_file() else []
            why = "\n".join(line for line in lines if any(stem in line for stem in stems))
            self._fail_start(f"已启动，但 modules.conf 中列出的模块没有加载：{'、'.join(missing)}"
                             f"（autoload=no 时每个依赖模块也必须列出）：\n"
                             f"{why or '（日志中没有提到它们）'}\n日志")

    def _wait_ami(self, ami: AmiAccess, deadline: float) -> None:
        """Booted is not enough: the manager must greet on the manifest's address and port."""
        last_error = ""
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((ami.host, ami.port),
                                              timeout=AMI_CONNECT_TIMEOUT_S) as conn:
                    if conn.recv(len(AMI_BANNER)).startswith(AMI_BANNER):
                        return
                    last_error = "没有收到 Asterisk Call Manager 的问候"
            except OSError as exc:
                last_error = str(exc)
            time.sleep(POLL_INTERVAL_S)
        self._fail_start(f"已启动，但 AMI {ami.host}:{ami.port} 没有应答（{last_error}）；"
                         "请检查 manager.conf 和 modules.conf")

    def _fail_start(self, reason: str) -> NoReturn:
        """Stop what was started and raise with the log tail, so the cause is in the message."""
        tail = self.log_tail()
        self.down()
        raise SandboxError(f"Asterisk 实例 {self.name} {reason}：\n{tail}")

    def _run_cli(self, command: str, timeout: float) -> str:
        try:
            done = subprocess.run(
                ["chroot", str(self.root), ASTERISK_BINARY, "-C", self.conf_path, "-rx", command],
                stdin=subprocess.DEVNULL, capture_output=True, text=True, errors="replace",
                timeout=timeout, env=CHROOT_ENV, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SandboxError(f"命令“{command}”在 {timeout:.0f} 秒内没有应答") from exc
        output = done.stdout + done.stderr
        if done.returncode != 0 or NOT_CONNECTED in output:
            raise SandboxError(f"命令“{command}”在实例 {self.name} 中执行失败"
                               f"（退出码 {done.returncode}）：{output.strip()}")
        return done.stdout

    def _live_pid(self) -> int | None:
        """The pid of this instance's Asterisk if it is alive (and really ours), else None."""
        self._reap()
        candidates: list[int] = []
        state_path = self.instance_dir / STATE_NAME
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            candidates.append(int(json.loads(state_path.read_text(encoding="utf-8"))["pid"]))
        try:
            text = (self.instance_dir / ASTERISK_PID_FILE).read_text(encoding="ascii")
            candidates.append(int(text.strip()))
        except (OSError, ValueError):
            pass
        for pid in candidates:
            if _is_our_asterisk(pid, self.root, self.conf_path):
                return pid
        return None

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._reap()
            if not _is_our_asterisk(pid, self.root, self.conf_path) and not _exiting(pid):
                return True
            time.sleep(POLL_INTERVAL_S)
        return False

    def _reap(self) -> None:
        if self._process is not None and self._process.poll() is not None:
            self._process = None


def _proc_stat_state(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[0]


def _exiting(pid: int) -> bool:
    """Alive but with its memory already released (an empty command line): a process on its
    way out, which a check of its command line would take for a stranger. Not gone yet."""
    if _proc_stat_state(pid) in (None, "Z", "X"):
        return False
    try:
        return not Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _is_our_asterisk(pid: int, root: Path, conf_path: str) -> bool:
    """True if `pid` is a live Asterisk in `root` started with this instance's asterisk.conf.

    Checking the command line and the process root guards against a recycled pid.
    """
    state = _proc_stat_state(pid)
    if state is None or state in ("Z", "X"):
        return False
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        process_root = os.readlink(f"/proc/{pid}/root")
    except OSError:
        return False
    args = [arg.decode(errors="replace") for arg in argv if arg]
    if conf_path not in args:
        return False
    # Right after fork the process is still `chroot ROOT asterisk …` with the host's root.
    return process_root == str(root) or (bool(args) and args[0].endswith("chroot"))


def _check_free(host: str, port: int, kind: socket.SocketKind, what: str) -> None:
    """Refuse to start on a port someone else holds: Asterisk would only log it and carry on."""
    try:
        family = socket.getaddrinfo(host, port, type=kind)[0][0]
    except OSError as exc:
        raise SandboxError(f"{what} 地址“{host}”无法解析（{exc}）") from exc
    with socket.socket(family, kind) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise SandboxError(f"{what} 端口 {host}:{port} 已被占用：另一个实例或程序正在使用它"
                               ) from exc


def _kill_group(pid: int) -> None:
    """SIGKILL Asterisk and anything it spawned; it leads its own session when we started it."""
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


SPOOL_SUBDIR = "spool/hotline"
RECORDING_SPOOL_SUBDIR = "spool/hotline-calls"


def sandbox_overrides(pbx: SandboxPbx) -> dict[str, str]:
    """The configuration as the sandbox runs it: the voicemail spool lives in the instance,
    written by Asterisk at its path inside the root and read by the service from the host."""
    pbx_spool = f"{pbx.pbx_dir}/{SPOOL_SUBDIR}"
    recordings = f"{pbx.pbx_dir}/{RECORDING_SPOOL_SUBDIR}"
    return {"voicemail.pbx_spool": pbx_spool, "voicemail.spool": str(pbx.host_path(pbx_spool)),
            "recording.pbx_spool": recordings, "recording.spool": str(pbx.host_path(recordings)),
            "queue.queue_log": str(pbx.host_path(f"{pbx.pbx_dir}/log/queue_log"))}

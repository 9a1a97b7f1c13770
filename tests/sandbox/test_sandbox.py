"""The sandbox PBX against the real Asterisk 22 root: cache, start, AMI, sounds, side by side, stop.

One root (the user's cache) serves the whole session; instances get names and ports of their own
so parallel sessions do not collide. A root that cannot be built or started fails the tests.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hotline.cli import EXIT_FAILED, EXIT_OK, main
from hotline.sandbox import SandboxError, SandboxPbx, ensure_root
from hotline.sandbox import root as root_module
from hotline.sandbox.root import MARKER_NAME, ROOT_DIR_NAME, TARBALL_NAME, is_complete

pytestmark = pytest.mark.pbx

REPO = Path(__file__).resolve().parents[2]

AMI_USER = "sandbox-test"
AMI_SECRET = "s3cret-sandbox"
AMI_TIMEOUT_S = 10.0
TONE_SECONDS = "0.3"
TCP_LISTEN = "0A"

MODULES = (
    "res_timing_timerfd.so",
    "res_sorcery_config.so",
    "res_sorcery_memory.so",
    "res_sorcery_astdb.so",
    "res_pjproject.so",
    "res_pjsip.so",
    "pbx_config.so",
    "app_playback.so",
    "app_userevent.so",
    "func_channel.so",
    "format_wav.so",
    "format_pcm.so",
    "format_gsm.so",
    "codec_gsm.so",
)
EXTENSIONS = """\
[sandbox-test]
exten => play,1,Set(CHANNEL(language)=${LANG})
 same => n,Playback(${SOUND})
 same => n,UserEvent(PlayResult,Lang: ${CHANNEL(language)},Sound: ${SOUND},Status: ${PLAYBACKSTATUS})
 same => n,Hangup()
"""


# --- helpers ---------------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port free for both TCP and UDP right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port
    raise AssertionError("no free loopback port found")


def write_rendered(directory: Path, *, ami_port: int, sip_port: int,
                   extra_modules: str = "", sounds: bool = True) -> Path:
    """A minimal hand-written 'rendered' configuration: AMI and PJSIP on loopback only."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "modules.conf").write_text(
        "[modules]\nautoload = no\n" + "".join(f"load => {m}\n" for m in MODULES)
        + extra_modules, encoding="utf-8")
    (directory / "manager.conf").write_text(
        f"[general]\nenabled = yes\nbindaddr = 127.0.0.1\nport = {ami_port}\n\n"
        f"[{AMI_USER}]\nsecret = {AMI_SECRET}\ndeny = 0.0.0.0/0.0.0.0\n"
        "permit = 127.0.0.1/255.255.255.255\nread = all\nwrite = all\n"
        "eventfilter = !Event: TestEvent\n", encoding="utf-8")
    (directory / "logger.conf").write_text(
        "[general]\n[logfiles]\nconsole => notice,warning,error\n"
        "messages => notice,warning,error\n", encoding="utf-8")
    (directory / "pjsip.conf").write_text(
        f"[transport-udp]\ntype = transport\nprotocol = udp\nbind = 127.0.0.1:{sip_port}\n",
        encoding="utf-8")
    (directory / "extensions.conf").write_text(EXTENSIONS, encoding="utf-8")
    manifest = {"ami": {"host": "127.0.0.1", "port": ami_port, "username": AMI_USER,
                        "secret": AMI_SECRET},
                "sip": {"bind": "127.0.0.1", "port": sip_port}}
    (directory / "hotline-pbx.json").write_text(json.dumps(manifest), encoding="utf-8")
    if sounds:
        sound_dir = directory / "sounds" / "hotline"
        sound_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-b", "16",
                        str(sound_dir / "greeting.wav"), "synth", TONE_SECONDS, "sine", "440"],
                       check=True, capture_output=True)
    return directory


class Ami:
    """A raw-socket AMI client: just enough framing to prove the real manager answers."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=AMI_TIMEOUT_S)
        self.buffer = b""
        self.banner = self._read_until(b"\r\n").decode()

    def _read_until(self, separator: bytes) -> bytes:
        while separator not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("AMI closed the connection")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(separator, 1)
        return head

    def send(self, **fields: str) -> None:
        text = "".join(f"{key}: {value}\r\n" for key, value in fields.items()) + "\r\n"
        self.sock.sendall(text.encode())

    def read(self) -> dict[str, str]:
        block = self._read_until(b"\r\n\r\n").decode("utf-8", errors="replace")
        message: dict[str, str] = {}
        for line in block.split("\r\n"):
            key, _, value = line.partition(": ")
            message.setdefault(key, value)
        return message

    def wait_for(self, match: Callable[[dict[str, str]], bool],
                 timeout: float = AMI_TIMEOUT_S) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.read()
            if match(message):
                return message
        raise AssertionError("expected AMI message did not arrive")

    def action(self, action_id: str, **fields: str) -> dict[str, str]:
        self.send(ActionID=action_id, **fields)
        return self.wait_for(lambda m: m.get("ActionID") == action_id and "Response" in m)

    def login(self) -> dict[str, str]:
        return self.action("login", Action="Login", Username=AMI_USER, Secret=AMI_SECRET)

    def close(self) -> None:
        self.sock.close()


def ami_of(pbx: SandboxPbx) -> Ami:
    status = pbx.status()
    assert status.ami is not None
    return Ami(status.ami.host, status.ami.port)


def port_accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def root() -> Path:
    """The cached root; built (about a minute) only if this machine never built it."""
    return ensure_root()


@pytest.fixture(scope="session")
def instance_prefix() -> str:
    return f"t{os.getpid()}"


@pytest.fixture(scope="module")
def running(root: Path, instance_prefix: str,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxPbx]:
    """One instance shared by this module's tests that do not stop it."""
    rendered = write_rendered(tmp_path_factory.mktemp("rendered-a"),
                              ami_port=free_port(), sip_port=free_port())
    pbx = SandboxPbx(f"{instance_prefix}-a", rendered, root=root)
    pbx.up()
    try:
        yield pbx
    finally:
        pbx.remove()


@pytest.fixture
def make_pbx(root: Path, instance_prefix: str,
             tmp_path: Path) -> Iterator[Callable[..., SandboxPbx]]:
    """Instances made by one test, removed after it whatever happened."""
    made: list[SandboxPbx] = []

    def make(suffix: str, **kwargs: object) -> SandboxPbx:
        rendered = write_rendered(tmp_path / suffix, ami_port=free_port(), sip_port=free_port(),
                                  **kwargs)  # type: ignore[arg-type]
        pbx = SandboxPbx(f"{instance_prefix}-{suffix}", rendered, root=root)
        made.append(pbx)
        return pbx

    yield make
    for pbx in made:
        pbx.remove()


# --- the root --------------------------------------------------------------------------------


def test_cached_root_is_reused_and_holds_asterisk_22(root: Path) -> None:
    def identity() -> tuple[int, ...]:
        marker, tarball = (root / MARKER_NAME).stat(), (root.parent / TARBALL_NAME).stat()
        return (root.stat().st_ino, marker.st_ino, marker.st_mtime_ns, tarball.st_mtime_ns)

    before = identity()
    assert ensure_root() == root
    assert identity() == before, "the cached root was rebuilt or unpacked again instead of reused"
    assert (root / MARKER_NAME).read_text().startswith("Asterisk 22.")
    assert (root.parent / TARBALL_NAME).is_file()
    assert root_module.asterisk_version(root) == (root / MARKER_NAME).read_text().strip()


def test_root_is_unpacked_from_the_tarball_and_debris_is_cleared(root: Path,
                                                                 tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / TARBALL_NAME).symlink_to(root.parent / TARBALL_NAME)
    half = cache / ROOT_DIR_NAME  # a root without its marker, as a crash would leave it
    (half / "etc").mkdir(parents=True)
    leftover = cache / f"{root_module.BUILD_PREFIX}crashed"
    (leftover / "usr").mkdir(parents=True)
    try:
        unpacked = ensure_root(cache)
        assert unpacked == cache.resolve() / ROOT_DIR_NAME
        assert is_complete(unpacked)
        assert (unpacked / "usr/sbin/asterisk").is_file()
        assert (unpacked / "etc/resolv.conf").read_text() == "nameserver 127.0.0.1\n"
        assert not leftover.exists()
        assert sorted(p.name for p in cache.iterdir()) == sorted(
            [ROOT_DIR_NAME, TARBALL_NAME, root_module.LOCK_NAME])
    finally:
        shutil.rmtree(cache)


def test_a_damaged_tarball_is_never_taken_for_a_root(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / TARBALL_NAME).write_bytes(b"not a zstd tarball")

    def no_network_build(cache_dir: Path) -> Path:
        raise SandboxError("build attempted")

    monkeypatch.setattr(root_module, "_build", no_network_build)
    with pytest.raises(SandboxError, match="build attempted"):
        ensure_root(cache)
    assert not (cache / TARBALL_NAME).exists()
    assert not (cache / ROOT_DIR_NAME).exists()
    assert not any(p.name.startswith(root_module.UNPACK_PREFIX) for p in cache.iterdir())


def test_non_root_user_is_refused_clearly(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SandboxError, match="必须以 root 身份运行"):
        ensure_root(tmp_path)


# --- one instance ----------------------------------------------------------------------------


def test_ami_login_and_core_settings(running: SandboxPbx) -> None:
    ami = ami_of(running)
    try:
        assert ami.banner.startswith("Asterisk Call Manager/")
        login = ami.login()
        assert login["Response"] == "Success"
        assert login["Message"] == "Authentication accepted"
        settings = ami.action("settings", Action="CoreSettings")
        assert settings["Response"] == "Success"
        assert settings["AsteriskVersion"].startswith("22.")
    finally:
        ami.close()


def test_status_reports_manifest_pid_and_version(running: SandboxPbx) -> None:
    status = running.status()
    assert status.running
    assert status.pid is not None and pid_alive(status.pid)
    assert status.pbx_dir == f"/srv/hotline/{running.name}"
    assert status.ami is not None and status.ami.username == AMI_USER
    assert status.ami.secret == AMI_SECRET and status.ami.host == "127.0.0.1"
    assert status.sip is not None and status.sip.bind == "127.0.0.1"
    assert status.version is not None and status.version.startswith("Asterisk 22.")
    assert f"127.0.0.1:{status.sip.port}" in running.cli("pjsip show transports")


def test_instance_directories_are_its_own(running: SandboxPbx) -> None:
    settings = running.cli("core show settings")
    for sub in ("etc", "run", "spool", "log", "lib", "data"):
        assert f"{running.pbx_dir}/{sub}" in settings, sub
    assert running.host_path(running.pbx_dir) == running.root / running.pbx_dir.lstrip("/")
    assert (running.host_path(f"{running.pbx_dir}/run") / "asterisk.ctl").exists()
    with pytest.raises(SandboxError):
        running.host_path("relative/path")
    assert running.host_path("/../../etc/passwd") == running.root / "etc/passwd"


def tcp_listeners(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket `pid` listens on, read from /proc (no iproute2)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[len("socket:["):-1])
    found = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == TCP_LISTEN and inode in inodes:
                address, port = local.split(":")
                raw = bytes.fromhex(address)
                if len(raw) == 4:
                    found.add((socket.inet_ntop(socket.AF_INET, raw[::-1]), int(port, 16)))
                else:
                    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                    found.add((socket.inet_ntop(socket.AF_INET6, words), int(port, 16)))
    return found


def test_tcp_listeners_are_on_loopback_only(running: SandboxPbx) -> None:
    status = running.status()
    assert status.ami is not None and status.pid is not None
    listeners = tcp_listeners(status.pid)
    assert ("127.0.0.1", status.ami.port) in listeners
    assert all(address == "127.0.0.1" for address, _ in listeners), listeners


@pytest.mark.parametrize("language", ["zh", "en"])
def test_rendered_sound_plays_for_both_languages(running: SandboxPbx, language: str) -> None:
    expected = {"hotline/greeting": "SUCCESS",  # rendered_dir/sounds/hotline/greeting.wav
                "hotline/no-such-prompt": "FAILED",
                "beep": "SUCCESS"}  # a stock sound of the root (sounds/en)
    ami = ami_of(running)
    try:
        ami.login()
        for sound in expected:
            ami.send(Action="Originate", ActionID=f"play-{sound}",
                     Channel="Local/play@sandbox-test", Application="Wait", Data="1",
                     Async="true", Variable=f"LANG={language},SOUND={sound}")
        results = {}
        while len(results) < len(expected):
            event = ami.wait_for(lambda m: m.get("UserEvent") == "PlayResult")
            results[event["Sound"]] = (event["Lang"], event["Status"])
        assert results == {sound: (language, status) for sound, status in expected.items()}
    finally:
        ami.close()


def test_cli_of_a_stopped_instance_says_so(make_pbx: Callable[..., SandboxPbx]) -> None:
    pbx = make_pbx("idle")
    assert not pbx.status().running
    with pytest.raises(SandboxError, match="没有运行"):
        pbx.cli("core show uptime")
    pbx.down()  # stopping what never ran is fine


# --- several instances, stopping, restarting -------------------------------------------------


def test_two_instances_side_by_side_then_down(running: SandboxPbx,
                                              make_pbx: Callable[..., SandboxPbx]) -> None:
    second = make_pbx("b")
    status = second.up()
    first = running.status()
    assert status.pid != first.pid
    assert status.ami is not None and first.ami is not None
    assert status.ami.port != first.ami.port
    for pbx in (running, second):
        ami = ami_of(pbx)
        try:
            assert ami.login()["Message"] == "Authentication accepted"
        finally:
            ami.close()
    assert second.pbx_dir in second.cli("core show settings")

    started = time.monotonic()
    second.down()
    stop_seconds = time.monotonic() - started
    assert status.pid is not None and not pid_alive(status.pid)
    assert not port_accepts(status.ami.port)
    assert not second.status().running
    second.down()  # idempotent
    assert stop_seconds < 10
    assert running.status().running  # the other instance is untouched
    assert port_accepts(first.ami.port)


def test_restart_gives_a_new_process_that_answers(make_pbx: Callable[..., SandboxPbx]) -> None:
    pbx = make_pbx("r")
    before = pbx.up()
    after = pbx.restart()
    assert after.running and after.pid != before.pid
    assert before.pid is not None and not pid_alive(before.pid)
    ami = ami_of(pbx)
    try:
        assert ami.login()["Message"] == "Authentication accepted"
    finally:
        ami.close()
    again = pbx.up()  # up on a running instance restarts it with the current files
    assert again.running and again.pid != after.pid


def test_down_kills_an_instance_that_ignores_core_stop(make_pbx: Callable[..., SandboxPbx],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    pbx = make_pbx("k")
    status = pbx.up()

    def deaf_console(command: str, timeout: float) -> str:
        raise SandboxError("console unreachable")

    monkeypatch.setattr(pbx, "_run_cli", deaf_console)
    pbx.down(timeout=0.5)
    assert status.pid is not None and not pid_alive(status.pid)


# --- failures are explained ------------------------------------------------------------------


def test_broken_config_fails_with_the_log_tail(make_pbx: Callable[..., SandboxPbx]) -> None:
    pbx = make_pbx("broken", extra_modules="require => res_no_such_module.so\n")
    with pytest.raises(SandboxError) as failure:
        pbx.up()
    message = str(failure.value)
    assert "在启动过程中退出" in message
    assert "res_no_such_module.so" in message
    assert "ASTERISK EXITING" in message
    assert not pbx.status().running


def test_missing_manifest_is_refused(make_pbx: Callable[..., SandboxPbx]) -> None:
    pbx = make_pbx("nomanifest")
    (pbx.rendered_dir / "hotline-pbx.json").unlink()
    with pytest.raises(SandboxError, match=r"hotline-pbx\.json 不存在"):
        pbx.up()


def test_port_taken_by_someone_else_is_refused(make_pbx: Callable[..., SandboxPbx]) -> None:
    pbx = make_pbx("busy")
    ami = pbx.status().ami
    assert ami is not None
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ami.port))
        squatter.listen()
        with pytest.raises(SandboxError, match=f"AMI 端口 127.0.0.1:{ami.port} 已被占用"):
            pbx.up()


def test_bad_instance_name_is_refused(root: Path, tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="实例名称"):
        SandboxPbx("../escape", tmp_path, root=root)


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_status_json_cli_and_down(make_pbx: Callable[..., SandboxPbx],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    pbx = make_pbx("cli")
    ami = pbx.up().ami
    assert ami is not None
    base = ["sandbox"]
    options = ["--name", pbx.name, "--out", str(pbx.rendered_dir)]

    assert main([*base, "status", "--json", *options]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["running"] is True and data["pid"] == pbx.status().pid
    assert data["ami"] == {"host": "127.0.0.1", "port": ami.port, "username": AMI_USER,
                           "secret": AMI_SECRET}
    assert data["pbx_dir"] == pbx.pbx_dir
    assert data["spool"] == str(pbx.host_path(f"{pbx.pbx_dir}/spool/hotline"))
    assert re.match(r"Asterisk 22\.", data["version"])

    assert main([*base, "cli", *options, "core show version"]) == EXIT_OK
    assert capsys.readouterr().out.startswith("Asterisk 22.")

    assert main([*base, "down", *options]) == EXIT_OK
    assert not pbx.status().running
    capsys.readouterr()
    assert main([*base, "cli", *options, "core show version"]) == EXIT_FAILED
    assert "没有运行" in capsys.readouterr().err


def test_module_that_declines_to_load_fails_the_start(make_pbx: Callable[..., SandboxPbx]) -> None:
    pbx = make_pbx("declined", extra_modules="load => chan_pjsip.so\n")  # no res_pjsip_pubsub
    with pytest.raises(SandboxError) as failure:
        pbx.up()
    message = str(failure.value)
    assert "没有加载：chan_pjsip.so" in message
    why = message.split("没有加载", 1)[1]
    assert re.search(r"ERROR.*chan_pjsip", why), why  # the log line saying why is quoted
    assert not pbx.status().running


def test_cli_up_renders_hotline_conf_into_the_instance(root: Path, instance_prefix: str,
                                                       tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """`hotline sandbox up` end to end: the real renderer, the demo's spool inside the instance."""
    from hotline.config.secrets import write_demo_secrets

    conf = tmp_path / "hotline.conf"
    text = (REPO / "hotline.conf").read_text(encoding="utf-8")
    ami_port, sip_port, rtp_start = free_port(), free_port(), free_port()
    for old, new in (("port = 5038", f"port = {ami_port}"), ("port = 5060", f"port = {sip_port}"),
                     ("rtp_start = 10000", f"rtp_start = {rtp_start}"),
                     ("rtp_end = 10999", f"rtp_end = {rtp_start + 20}")):
        assert f"\n{old}\n" in text, old
        text = text.replace(f"\n{old}\n", f"\n{new}\n", 1)
    conf.write_text(text, encoding="utf-8")
    shutil.copy(REPO / "remit.conf", tmp_path / "remit.conf")  # hotline.conf names it beside itself
    assert write_demo_secrets(conf) is not None
    name = f"{instance_prefix}-demo"
    out = tmp_path / "var" / "sandbox" / name
    options = ["--name", name]
    try:
        assert main(["-c", str(conf), "sandbox", "up", *options]) == EXIT_OK, \
            capsys.readouterr().err
        capsys.readouterr()
        assert main(["-c", str(conf), "sandbox", "status", "--json", *options]) == EXIT_OK
        data = json.loads(capsys.readouterr().out)
        assert data["running"] is True
        assert data["ami"]["port"] == ami_port and data["sip"]["port"] == sip_port
        pbx = SandboxPbx(name, out, root=root)
        spool = f"{pbx.pbx_dir}/spool/hotline"
        assert data["spool"] == str(pbx.host_path(spool)) and Path(data["spool"]).is_dir()
        assert spool in (pbx.host_path(f"{pbx.pbx_dir}/etc") / "extensions.conf").read_text()
        assert (pbx.host_path(f"{pbx.pbx_dir}/data/sounds/hotline") / "greeting.wav").is_file()
        ami = Ami("127.0.0.1", ami_port)
        try:
            login = ami.action("login", Action="Login", Username=data["ami"]["username"],
                               Secret=data["ami"]["secret"])
            assert login["Message"] == "Authentication accepted"
        finally:
            ami.close()
        assert main(["-c", str(conf), "sandbox", "down", *options]) == EXIT_OK
        assert not port_accepts(ami_port)
    finally:
        SandboxPbx(name, out, root=root).remove()

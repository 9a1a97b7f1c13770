"""The Asterisk root file system the sandbox runs in, built once and cached outside the clone.

Debian 12 has no asterisk package, so the sandbox uses a Debian sid root made by debootstrap
and run through chroot. Building takes about a minute and needs the mirror; unpacking the cached
tarball takes seconds. A root is only ever renamed into place once complete (its marker file is
the last thing written), so a crash mid-build can never leave a half root that looks usable.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from hotline.sandbox.errors import SandboxError

log = logging.getLogger(__name__)

CACHE_ENV = "HOTLINE_CACHE"
DEFAULT_CACHE_DIR = Path("~/.cache/hotline")
ROOT_DIR_NAME = "asterisk-root"
TARBALL_NAME = "asterisk-root.tar.zst"
LOCK_NAME = "asterisk-root.lock"
MARKER_NAME = ".hotline-root-ok"
# Prefixes of work directories; anything with them is debris from an interrupted run.
BUILD_PREFIX = "asterisk-root.build-"
UNPACK_PREFIX = "asterisk-root.unpack-"
TARBALL_TMP_PREFIX = "asterisk-root.tar.zst.part-"

DEBOOTSTRAP_SUITE = "sid"
DEBOOTSTRAP_VARIANT = "minbase"
DEBOOTSTRAP_PACKAGES = ("asterisk", "tzdata")
ASTERISK_BINARY = "/usr/sbin/asterisk"
EXPECTED_ASTERISK_MAJOR = 22
ASTERISK_VERSION = re.compile(r"Asterisk (\d+)\.\S*")
# Keep pjsip's resolver on loopback: the sandbox must never reach out on its own.
CHROOT_RESOLV_CONF = "nameserver 127.0.0.1\n"
ROOT_MODE = 0o755
TARBALL_MODE = 0o644
ZSTD_COMMAND = "zstd -T0 -3"

BUILD_TIMEOUT_S = 1200
PACK_TIMEOUT_S = 600
CHROOT_COMMAND_TIMEOUT_S = 60
OUTPUT_TAIL_CHARS = 3000
BUILD_TOOLS = ("debootstrap", "chroot", "tar", "zstd")


def default_cache_dir() -> Path:
    """$HOTLINE_CACHE or ~/.cache/hotline: outside the clone, so `git clean` keeps the root."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured).expanduser() if configured else DEFAULT_CACHE_DIR.expanduser()


def root_dir(cache_dir: Path | None = None) -> Path:
    """Where the unpacked root lives (whether or not it exists yet)."""
    return (cache_dir or default_cache_dir()) / ROOT_DIR_NAME


def is_complete(root: Path) -> bool:
    """A root is usable only if its marker exists: the marker is written last."""
    return (root / MARKER_NAME).is_file()


def root_version(root: Path) -> str | None:
    """The Asterisk version recorded in the marker, or None for an incomplete root."""
    try:
        return (root / MARKER_NAME).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def require_root_user() -> None:
    """chroot needs root; say so instead of failing later with a puzzling EPERM."""
    if os.geteuid() != 0:
        raise SandboxError("沙箱交换机通过 chroot 运行 Asterisk，必须以 root 身份运行"
                           f"（当前 uid {os.geteuid()}）；请以 root 身份运行此命令或测试")


def ensure_root(cache_dir: Path | None = None) -> Path:
    """Return a complete Asterisk root, unpacking the cached tarball or building it if needed.

    A file lock keeps two processes (parallel test sessions, the CLI) from building at once;
    the loser waits and then finds the winner's root.
    """
    require_root_user()
    cache = (cache_dir or default_cache_dir()).expanduser().resolve()
    root = cache / ROOT_DIR_NAME
    if is_complete(root):
        return root
    cache.mkdir(parents=True, exist_ok=True)
    with _locked(cache / LOCK_NAME):
        if is_complete(root):
            return root
        _remove_debris(cache)
        if root.exists():
            log.warning("丢弃不完整的 Asterisk 根目录 %s", root)
            _discard(root)
        tarball = cache / TARBALL_NAME
        if tarball.is_file():
            unpacked = _unpack(tarball, cache)
            if unpacked is not None:
                os.rename(unpacked, root)
                return root
            log.warning("缓存的 %s 不可用：删除后重新构建", tarball)
            tarball.unlink()
        built = _build(cache)
        _pack(built, tarball, cache)
        os.rename(built, root)
        return root


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: Sequence[str], what: str, timeout: float) -> str:
    """Run a build step; on failure raise SandboxError with the tail of its output."""
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, errors="replace", timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise SandboxError(f"{what}：没有安装 {command[0]}") from exc
    except subprocess.TimeoutExpired as exc:
        raise SandboxError(f"{what}：{timeout:.0f} 秒后仍无结果") from exc
    if done.returncode != 0:
        raise SandboxError(f"{what}：失败（退出码 {done.returncode}）：\n"
                           f"{done.stdout[-OUTPUT_TAIL_CHARS:]}")
    return done.stdout


def _check_tools(tools: Sequence[str]) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        raise SandboxError(f"构建沙箱根目录缺少主机工具：{'、'.join(missing)}"
                           "（Debian 软件包：debootstrap、zstd、tar、coreutils）")


def asterisk_version(root: Path) -> str:
    """Ask the root's own asterisk binary; refuse a root without the expected major version."""
    output = _run(["chroot", str(root), ASTERISK_BINARY, "-V"], "在根目录中运行 asterisk -V",
                  CHROOT_COMMAND_TIMEOUT_S).strip()
    match = ASTERISK_VERSION.search(output)
    if match is None:
        raise SandboxError(f"{root} 中 asterisk -V 的输出无法识别：{output!r}")
    if int(match.group(1)) != EXPECTED_ASTERISK_MAJOR:
        raise SandboxError(f"根目录中是 {match.group(0)}；沙箱需要 Asterisk "
                           f"{EXPECTED_ASTERISK_MAJOR}.x")
    return match.group(0)


def _build(cache: Path) -> Path:
    """debootstrap a fresh root into a work directory and finish it; return that directory."""
    _check_tools(BUILD_TOOLS)
    work = Path(tempfile.mkdtemp(prefix=BUILD_PREFIX, dir=cache))
    work.chmod(ROOT_MODE)
    started = time.monotonic()
    log.info("正在用 debootstrap 构建 Asterisk 根目录（约需一分钟）")
    try:
        _run(["debootstrap", f"--variant={DEBOOTSTRAP_VARIANT}",
              f"--include={','.join(DEBOOTSTRAP_PACKAGES)}", DEBOOTSTRAP_SUITE, str(work)],
             "运行 debootstrap", BUILD_TIMEOUT_S)
        _run(["chroot", str(work), "apt-get", "clean"], "在根目录中运行 apt-get clean",
             CHROOT_COMMAND_TIMEOUT_S)
        resolv = work / "etc" / "resolv.conf"
        resolv.unlink(missing_ok=True)
        resolv.write_text(CHROOT_RESOLV_CONF, encoding="utf-8")
        version = asterisk_version(work)
        (work / MARKER_NAME).write_text(version + "\n", encoding="utf-8")
    except BaseException:
        _discard(work)
        raise
    log.info("已构建 %s，用时 %.1f 秒", version, time.monotonic() - started)
    return work


def _pack(root: Path, tarball: Path, cache: Path) -> None:
    """Write the cache tarball under a temporary name and rename it, so it is whole or absent."""
    fd, name = tempfile.mkstemp(prefix=TARBALL_TMP_PREFIX, dir=cache)
    os.close(fd)
    partial = Path(name)
    started = time.monotonic()
    try:
        _run(["tar", "--numeric-owner", f"--use-compress-program={ZSTD_COMMAND}",
              "-C", str(root), "-cf", str(partial), "."], "打包根目录", PACK_TIMEOUT_S)
        partial.chmod(TARBALL_MODE)
        os.rename(partial, tarball)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    log.info("已打包 %s，用时 %.1f 秒", tarball, time.monotonic() - started)


def _unpack(tarball: Path, cache: Path) -> Path | None:
    """Unpack into a work directory; None if the tarball is damaged or lacks the marker."""
    _check_tools(("tar", "zstd"))
    work = Path(tempfile.mkdtemp(prefix=UNPACK_PREFIX, dir=cache))
    work.chmod(ROOT_MODE)
    started = time.monotonic()
    try:
        _run(["tar", "--numeric-owner", "--use-compress-program=zstd", "-C", str(work),
              "-xpf", str(tarball)], "解包缓存的根目录", PACK_TIMEOUT_S)
    except SandboxError as exc:
        log.warning("%s", exc)
        _discard(work)
        return None
    except BaseException:
        _discard(work)
        raise
    if not is_complete(work):
        _discard(work)
        return None
    log.info("已解包 %s，用时 %.1f 秒", tarball, time.monotonic() - started)
    return work


def _remove_debris(cache: Path) -> None:
    """Remove work directories left by a crashed build; safe because we hold the lock."""
    for entry in cache.iterdir():
        if entry.name.startswith((BUILD_PREFIX, UNPACK_PREFIX)):
            log.warning("删除遗留的 %s", entry)
            _discard(entry)
        elif entry.name.startswith(TARBALL_TMP_PREFIX):
            entry.unlink(missing_ok=True)


def _mounts_under(path: Path) -> list[str]:
    """Mount points inside `path` (debootstrap mounts proc and sys in its target)."""
    prefix = str(path.resolve()) + "/"
    found = []
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            fields = line.split()
            point = fields[1].encode().decode("unicode_escape") if len(fields) > 1 else ""
            if point.startswith(prefix):
                found.append(point)
    return found


def _discard(path: Path) -> None:
    """Delete a root directory without ever descending into a mount (a live /proc or /dev)."""
    for point in sorted(_mounts_under(path), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)
    if _mounts_under(path):
        raise SandboxError(f"无法卸载 {path} 下的全部挂载；请手动删除它")
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=False)

"""Fetch an official Vosk model archive: verified, resumable, and unpacked atomically.

Models are large (tens to hundreds of MB) and the hall's link may drop: a partial download is
kept beside the models and resumed with an HTTP Range request. Nothing is unpacked before the
whole archive matches its SHA-256, and the model directory appears in one rename, so the service
never sees half a model.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

from voicemail.transcribe import model_problem

DEFAULT_MODEL = "vosk-model-small-cn-0.22"
DEFAULT_BASE_URL = "https://alphacephei.com/vosk/models"
# name -> SHA-256 of name.zip as published. Fill only from a verified source; a model not listed
# here needs --sha256 (the installer never unpacks an unverified archive).
KNOWN_SHA256: dict[str, str] = {}
CHUNK = 1 << 16
TIMEOUT_S = 60.0
HTTP_PARTIAL = 206
HTTP_RANGE_NOT_SATISFIABLE = 416
SHA256_HEX_LEN = 64

Progress = Callable[[int, int | None], None]  # bytes so far, total (None when unknown)


class InstallError(Exception):
    """The model was not installed; the message says why and what to do."""


class ChecksumError(InstallError):
    """No checksum to trust, or the archive did not match it: refused, never unpacked."""


def part_path(models_dir: Path, name: str) -> Path:
    return models_dir / f".{name}.zip.part"


def expected_sha256(name: str, given: str | None) -> str:
    digest = (given or KNOWN_SHA256.get(name) or "").strip().lower()
    if not digest:
        raise ChecksumError(f"没有 {name} 的已知 SHA-256：请用 --sha256 给出官方公布的校验和")
    if len(digest) != SHA256_HEX_LEN or any(c not in "0123456789abcdef" for c in digest):
        raise ChecksumError(f"“{digest}”不是 SHA-256（应为 64 位十六进制数）")
    return digest


def _download(url: str, part: Path, progress: Progress | None) -> None:
    """Fetch into `part`, continuing from its current size when the server honours Range."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url)
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == HTTP_RANGE_NOT_SATISFIABLE and have:
            return  # already complete; the checksum decides
        raise InstallError(f"下载 {url} 失败：HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise InstallError(f"下载 {url} 失败：{exc}") from None
    with response:
        resumed = have and response.status == HTTP_PARTIAL
        if not resumed:
            have = 0  # the server sent the whole file again
        length = response.headers.get("Content-Length")
        total = have + int(length) if length else None
        with part.open("ab" if resumed else "wb") as out:
            done = have
            while chunk := response.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _unpack(archive: Path, models_dir: Path, name: str) -> Path:
    """Extract into a temporary sibling, then rename into place in one step."""
    target = models_dir / name
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=models_dir))
    try:
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                resolved = (staging / member).resolve()
                if not resolved.is_relative_to(staging.resolve()):
                    raise InstallError(f"压缩包中有不安全的路径：“{member}”")
            zf.extractall(staging)
        entries = list(staging.iterdir())
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
        problem = model_problem(root)
        if problem is not None:
            raise InstallError(f"压缩包不是 Vosk 模型：{problem}")
        if target.exists():
            raise InstallError(f"{target} 在此期间已出现：未替换")
        os.replace(root, target)
    except zipfile.BadZipFile as exc:
        raise InstallError(f"压缩包已损坏：{exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def install_model(name: str, models_dir: Path, *, base_url: str = DEFAULT_BASE_URL,
                  sha256: str | None = None, progress: Progress | None = None) -> Path:
    """Install `name` under `models_dir` and return its directory (kept if already there)."""
    target = models_dir / name
    if target.exists():
        if model_problem(target) is None:
            return target
        raise InstallError(f"{target} 已存在但不是可用的模型：请先删除它")
    digest = expected_sha256(name, sha256)
    models_dir.mkdir(parents=True, exist_ok=True)
    part = part_path(models_dir, name)
    _download(f"{base_url.rstrip('/')}/{name}.zip", part, progress)
    actual = file_sha256(part)
    if actual != digest:
        part.unlink(missing_ok=True)  # corrupt or wrong file: never resume from it
        raise ChecksumError(f"{name}.zip 的校验和不符：应为 {digest}，实际为 {actual}；"
                           "下载的文件已丢弃")
    installed = _unpack(part, models_dir, name)
    part.unlink(missing_ok=True)
    return installed

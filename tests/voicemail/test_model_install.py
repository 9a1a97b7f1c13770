"""`hotline model install` against a local HTTP server: verified, resumed, unpacked atomically."""

from __future__ import annotations

import hashlib
import shutil
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hotline.cli import EXIT_OK, EXIT_REFUSED, main
from tests.hall_pbx import REPO
from voicemail.model_install import part_path
from voicemail.transcribe import model_problem

NAME = "vosk-model-tiny-test-0.1"
PAYLOAD_BYTES = 200_000  # big enough that a half download is meaningful


def make_model_zip(path: Path) -> bytes:
    """A zip laid out like the official ones: NAME/am/final.mdl, NAME/graph/HCLG.fst, …"""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{NAME}/am/final.mdl", bytes(range(256)) * (PAYLOAD_BYTES // 256))
        zf.writestr(f"{NAME}/graph/HCLG.fst", b"fst")
        zf.writestr(f"{NAME}/README", "Chinese test model\n")
    return path.read_bytes()


class Server:
    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.ranges: list[str | None] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                body = outer.files.get(self.path.rsplit("/", 1)[-1])
                wanted = self.headers.get("Range")
                outer.ranges.append(wanted)
                if body is None:
                    self.send_error(404)
                    return
                start = int(wanted.removeprefix("bytes=").rstrip("-")) if wanted else 0
                self.send_response(206 if wanted else 200)
                if wanted:
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                self.wfile.write(body[start:])

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/models"


@pytest.fixture
def archive(tmp_path: Path) -> bytes:
    return make_model_zip(tmp_path / f"{NAME}.zip")


@pytest.fixture
def server(archive: bytes) -> Iterator[Server]:
    server = Server({f"{NAME}.zip": archive})
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    hall = tmp_path / "hall"
    hall.mkdir()
    shutil.copy(REPO / "hotline.conf", hall / "hotline.conf")
    shutil.copy(REPO / "remit.conf", hall / "remit.conf")
    shutil.copy(REPO / "hotline.secrets", hall / "hotline.secrets")
    return hall / "hotline.conf"


def install(conf: Path, server: Server, models: Path, sha256: str) -> int:
    return main(["-c", str(conf), "model", "install", NAME, "--base-url", server.url,
                 "--dir", str(models), "--sha256", sha256])


def test_resumes_a_partial_download_and_unpacks_a_verified_model(
        conf: Path, server: Server, archive: bytes, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    models = tmp_path / "models"
    models.mkdir()
    half = len(archive) // 2
    part_path(models, NAME).write_bytes(archive[:half])
    assert install(conf, server, models, hashlib.sha256(archive).hexdigest()) == EXIT_OK
    assert server.ranges == [f"bytes={half}-"]  # only the missing half was fetched
    assert model_problem(models / NAME) is None
    assert (models / NAME / "am" / "final.mdl").stat().st_size == PAYLOAD_BYTES // 256 * 256
    assert sorted(p.name for p in models.iterdir()) == [NAME]  # no part file, no staging left
    err = capsys.readouterr().err
    assert "[" + "#" * 30 + "]" in err and f"已安装 {NAME}" in err
    # Installed already: nothing is fetched again.
    assert install(conf, server, models, hashlib.sha256(archive).hexdigest()) == EXIT_OK
    assert len(server.ranges) == 1


def test_checksum_mismatch_is_refused_and_nothing_is_unpacked(
        conf: Path, server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = tmp_path / "models"
    assert install(conf, server, models, "0" * 64) == EXIT_REFUSED
    assert "校验和不符" in capsys.readouterr().err
    assert list(models.iterdir()) == []  # the bad download is discarded, not kept for resuming
    assert server.ranges == [None]


def test_unknown_model_without_a_checksum_is_refused(conf: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["-c", str(conf), "model", "install", NAME, "--dir", str(tmp_path / "m"),
                 "--base-url", "http://127.0.0.1:9/none"])
    assert code == EXIT_REFUSED and "请用 --sha256" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()

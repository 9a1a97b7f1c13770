"""`hotline serve`: migrates, then serves the app on the configured or given address."""

from __future__ import annotations

import json
import logging
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from hotline.cli import EXIT_OK, EXIT_REFUSED, main
from hotline.config import load_config
from hotline.db import current_revision, head_revision
from tests.api.helpers import bearer

STARTUP_TIMEOUT = 90.0  # generous: a loaded CI machine; a wait, not a measure
SHUTDOWN_TIMEOUT = 10.0
RUN_CLI = "import sys; from hotline.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_migrates_then_runs_uvicorn_with_the_app(hall_dir: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    config_path = hall_dir / "hotline.conf"

    def fake_run(app: FastAPI, **options: Any) -> None:
        # By the time the server would start, the schema is already at head.
        calls.append({"app": app, "revision": current_revision(app.state.config), **options})

    monkeypatch.setattr(uvicorn, "run", fake_run)

    assert main(["-c", str(config_path), "serve"]) == EXIT_OK
    assert main(["-c", str(config_path), "serve", "--host", "0.0.0.0", "--port", "9000",
                 "--log-format", "human"]) == EXIT_OK

    config = load_config(config_path)
    first, second = calls
    assert isinstance(first["app"], FastAPI)
    assert first["revision"] == head_revision()
    assert (first["host"], first["port"]) == (config.api.bind, config.api.port)
    assert (second["host"], second["port"]) == ("0.0.0.0", 9000)
    assert first["access_log"] is False and first["log_config"] is None


def test_serve_answers_health_over_http(hall_dir: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The real thing: a server process, a token from the CLI, a request over TCP."""
    config_path = str(hall_dir / "hotline.conf")
    assert main(["-c", config_path, "token", "add", "--role", "monitor",
                 "--name", "wallboard"]) == EXIT_OK
    token = capsys.readouterr().out.strip()
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, "-c", config_path, "serve", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        response = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/health",
                                     headers=bearer(token), timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        if response is None:  # never read a live process's stderr: it blocks until it exits
            server.kill()
            pytest.fail(f"server did not come up: {server.communicate()[1]}")
        assert response.status_code == 200
        assert response.json()["status"] == "degraded"  # no AMI bridge wired yet
        assert response.json()["ami"]["connected"] is False
    finally:
        server.terminate()
        try:
            _, stderr = server.communicate(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            _, stderr = server.communicate()
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells why.
    assert server.returncode == -signal.SIGTERM
    assert any(line["msg"] == "Application shutdown complete." for line in lines)
    access = [line for line in lines if line["logger"] == "hotline.access"]
    assert access and access[-1]["principal"] == "wallboard"
    assert access[-1]["path"] == "/api/health" and access[-1]["status"] == 200
    assert token not in stderr


def _serve_on_a_terminal(config_path: str, env: dict[str, str]) -> list[str]:
    """Run `hotline serve` with its stderr on a pseudo-terminal, as at a person's terminal;
    the lines it printed up to "serving on" (then it is stopped)."""
    port = _free_port()
    leader, follower = pty.openpty()
    server = subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, "-c", config_path, "serve", "--no-bridge", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=follower, env={**os.environ, **env})
    os.close(follower)
    text = ""
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while "serving on" not in text and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    text += os.read(leader, 65536).decode("utf-8", "replace")
                except OSError:  # the server exited and closed the terminal
                    break
    finally:
        server.terminate()
        try:
            server.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        os.close(leader)
    assert "serving on" in text, text
    return [line for line in text.replace("\r\n", "\n").splitlines() if line.strip()]


def test_serve_at_a_terminal_prints_short_human_lines(hall_dir: Path) -> None:
    lines = _serve_on_a_terminal(str(hall_dir / "hotline.conf"), {"HOTLINE_LOG_FORMAT": ""})
    assert not [line for line in lines if line.startswith("{")], lines
    serving = next(line for line in lines if "serving on" in line)
    assert re.match(r"^\d\d:\d\d:\d\d INFO    hotline\.cli\.serve_cmd: serving on http://", serving)
    assert "[" not in serving  # host and port are in the message already: no key=value tail


def test_serve_at_a_terminal_logs_json_when_asked(hall_dir: Path) -> None:
    lines = _serve_on_a_terminal(str(hall_dir / "hotline.conf"), {"HOTLINE_LOG_FORMAT": "json"})
    serving = next(line for line in lines if "serving on" in line)
    assert json.loads(serving)["logger"] == "hotline.cli.serve_cmd"


def test_an_unknown_log_format_in_the_environment_is_refused(
        hall_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOTLINE_LOG_FORMAT", "xml")
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: None)  # never serve for real
    assert main(["-c", str(hall_dir / "hotline.conf"), "serve"]) == EXIT_REFUSED
    assert "HOTLINE_LOG_FORMAT" in capsys.readouterr().err


def test_the_demo_triages_with_the_stand_in_when_no_chinese_model_is_installed(
        hall_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 12: `./run demo` (serve --sandbox) must not leave triage off for want of a model."""
    import argparse

    from hotline.cli.serve_cmd import _demo_model
    from voicemail.transcribe import default_test_model_path

    args = argparse.Namespace(config=hall_dir / "hotline.conf")
    missing = {"vosk.model": str(tmp_path / "no-model-here")}
    config = load_config(args.config, overrides=missing)
    with caplog.at_level(logging.WARNING, logger="hotline.cli.serve_cmd"):
        demo = _demo_model(args, config, missing)
    assert demo is not None and demo.vosk.model == default_test_model_path()
    assert any("!!!" in r.getMessage() and "stand-in" in r.getMessage() for r in caplog.records)
    assert _demo_model(args, demo, {}) is demo  # a usable model is kept as it is

"""JSON log lines, and one request line per request naming the principal, never the token."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from hotline.auth import Role
from hotline.logging import ACCESS_LOGGER, QUIET_LOGGERS, configure_logging, resolve_log_format
from tests.api.helpers import TokenMaker, bearer


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the other tests."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


@pytest.fixture
def log_stream() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("json", "INFO", stream)
    return stream


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_request_log_names_the_principal_not_the_token(client: TestClient,
                                                       make_token: TokenMaker,
                                                       log_stream: io.StringIO) -> None:
    token = make_token(Role.OPERATOR, "zhang.wei")

    client.get("/api/me?debug=1", headers=bearer(token))
    client.get("/api/me")

    access = [line for line in _lines(log_stream) if line["logger"] == ACCESS_LOGGER]
    assert [(a["method"], a["path"], a["status"], a["principal"]) for a in access] == [
        ("GET", "/api/me", 200, "zhang.wei"), ("GET", "/api/me", 401, None)]
    assert all(isinstance(a["duration_ms"], float) and a["duration_ms"] >= 0 for a in access)
    assert token not in log_stream.getvalue()
    assert all("debug" not in json.dumps(a) for a in access)  # no query strings


def test_a_crash_is_logged_as_500_with_its_traceback(client: TestClient,
                                                     make_token: TokenMaker,
                                                     log_stream: io.StringIO) -> None:
    client.get("/api/test/crash", headers=bearer(make_token(Role.MONITOR, "wall")))

    lines = _lines(log_stream)
    crash = next(line for line in lines if line["logger"] == "hotline.api.errors")
    access = next(line for line in lines if line["logger"] == ACCESS_LOGGER)
    assert "RuntimeError: secret internal state" in crash["exc"]
    assert (access["status"], access["principal"]) == (500, "wall")


def test_json_lines_carry_extra_fields_and_unicode() -> None:
    stream = io.StringIO()
    configure_logging("json", "DEBUG", stream)
    logging.getLogger("hotline.test").info("座席 %s 暂停", "07", extra={"seat": "07"})
    line = json.loads(stream.getvalue())
    assert line["msg"] == "座席 07 暂停"
    assert (line["level"], line["logger"], line["seat"]) == ("info", "hotline.test", "07")
    assert line["ts"].endswith("+00:00")


def test_human_format_is_one_readable_line() -> None:
    stream = io.StringIO()
    configure_logging("human", "INFO", stream)
    logging.getLogger("hotline.test").warning("AMI lost", extra={"host": "127.0.0.1"})
    line = stream.getvalue().strip()
    assert "WARNING" in line and "hotline.test: AMI lost" in line
    assert line.endswith("[host=127.0.0.1]")


def test_configuring_twice_keeps_one_handler() -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    first = configure_logging("json", "INFO", io.StringIO())
    second = configure_logging("human", "INFO", io.StringIO())

    assert first not in root.handlers and second in root.handlers
    assert len(root.handlers) == before + 1


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("flag", "env", "terminal", "expected"), [
    (None, {}, True, "human"),
    (None, {}, False, "json"),
    ("auto", {}, True, "human"),
    (None, {"HOTLINE_LOG_FORMAT": "json"}, True, "json"),
    (None, {"HOTLINE_LOG_FORMAT": "HUMAN"}, False, "human"),
    ("json", {"HOTLINE_LOG_FORMAT": "human"}, True, "json"),  # the flag wins
    ("human", {}, False, "human"),
])
def test_log_format_follows_flag_then_environment_then_terminal(
        flag: str | None, env: dict[str, str], terminal: bool, expected: str) -> None:
    stream = _Terminal() if terminal else io.StringIO()
    assert resolve_log_format(flag, stream, env) == expected


def test_unknown_log_format_is_refused_naming_the_choices() -> None:
    with pytest.raises(ValueError, match="auto、json、human"):
        resolve_log_format(None, io.StringIO(), {"HOTLINE_LOG_FORMAT": "xml"})


def test_human_lines_are_short_and_do_not_repeat_the_message() -> None:
    stream = io.StringIO()
    configure_logging("human", "INFO", stream)
    logging.getLogger("hotline.access").info(
        "GET /api/health 200 1.5ms", extra={"method": "GET", "path": "/api/health", "status": 200,
                                            "principal": "wallboard", "client": None})
    line = stream.getvalue().strip()
    assert re.fullmatch(r"\d\d:\d\d:\d\d INFO    hotline\.access: GET /api/health 200 1\.5ms "
                        r"\[principal=wallboard\]", line), line

"""Structured logs: JSON lines on stderr for the journal, or a human format at a terminal.

`resolve_log_format` picks between them: the --log-format flag when given, else
$HOTLINE_LOG_FORMAT, else short human lines when stderr is a terminal and JSON when it is not
(a pipe, a file, the journal).

Fields passed with `extra={...}` become JSON keys, so a request log line can be filtered by
path or principal without parsing prose. The request log names the principal (the token's
name) and never carries the Authorization header or the query string.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import IO, Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.auth.principal import PRINCIPAL_STATE_KEY

LogFormat = Literal["json", "human"]
LOG_FORMATS: tuple[str, ...] = ("json", "human")
AUTO_FORMAT = "auto"
"""Human lines at a terminal, JSON otherwise."""
LOG_FORMAT_CHOICES: tuple[str, ...] = (AUTO_FORMAT, *LOG_FORMATS)
LOG_FORMAT_ENV = "HOTLINE_LOG_FORMAT"
DEFAULT_LEVEL = "INFO"
ACCESS_LOGGER = "hotline.access"
HUMAN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
HUMAN_TIME = "%H:%M:%S"
"""A terminal reader needs the time of day, not the date and milliseconds."""
# Loggers that would repeat or bury our own lines (httpx logs full URLs, query included).
QUIET_LOGGERS = {"uvicorn.access": logging.WARNING, "sqlalchemy.engine": logging.WARNING,
                 "httpx": logging.WARNING}
_HANDLER_MARK = "_hotline_handler"
# LogRecord's own attributes, and uvicorn's ANSI-coloured duplicate of its message.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName", "color_message"}


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items()
            if key not in _RECORD_FIELDS and not key.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the extra fields, exc if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(_extra_fields(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class HumanFormatter(logging.Formatter):
    """One short line: time, level, logger, message, then as key=value only the extra fields
    the message does not already show (a request line's method, path and status are in it)."""

    def __init__(self) -> None:
        super().__init__(HUMAN_FORMAT, HUMAN_TIME)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        message = record.getMessage()
        extras = {key: value for key, value in _extra_fields(record).items()
                  if value is not None and str(value) not in message}
        if not extras:
            return line
        head, _, tail = line.partition("\n")
        fields = " ".join(f"{key}={value}" for key, value in extras.items())
        return f"{head} [{fields}]" + (f"\n{tail}" if tail else "")


def resolve_log_format(requested: str | None, stream: IO[str] | None = None,
                       environ: Mapping[str, str] | None = None) -> LogFormat:
    """The format to log in: the flag, else $HOTLINE_LOG_FORMAT, else human at a terminal.

    Raises ValueError naming the accepted values for anything else."""
    environ = os.environ if environ is None else environ
    choice = requested or environ.get(LOG_FORMAT_ENV, "").strip().lower() or AUTO_FORMAT
    if choice not in LOG_FORMAT_CHOICES:
        source = "--log-format" if requested else LOG_FORMAT_ENV
        raise ValueError(f"{source}：未知的日志格式“{choice}”，应为以下之一："
                         f"{'、'.join(LOG_FORMAT_CHOICES)}")
    if choice != AUTO_FORMAT:
        return "json" if choice == "json" else "human"
    target = stream or sys.stderr
    try:
        at_terminal = target.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream: be machine-readable
        at_terminal = False
    return "human" if at_terminal else "json"


def configure_logging(fmt: LogFormat = "json", level: str | int = DEFAULT_LEVEL,
                      stream: IO[str] | None = None) -> logging.Handler:
    """Install our handler on the root logger (replacing one installed before) and return it."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"unknown log format {fmt!r}; expected one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else HumanFormatter())
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name, quiet_level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet_level)
    return handler


class RequestLogMiddleware:
    """Log one line per HTTP request: method, path, status, duration, principal name.

    A pure ASGI middleware (no BaseHTTPMiddleware) so streaming responses pass untouched.
    The principal is read from the request state the auth dependency fills in.
    """

    def __init__(self, app: ASGIApp, logger_name: str = ACCESS_LOGGER) -> None:
        self.app = app
        self.log = logging.getLogger(logger_name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        started = time.perf_counter()
        status_code = 500  # if the app dies before answering, the client sees a 500

        async def send_with_status(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            principal = state.get(PRINCIPAL_STATE_KEY)
            name = getattr(principal, "name", None)
            method, path = scope["method"], scope["path"]
            client = scope.get("client")
            self.log.info("%s %s %s %.1fms", method, path, status_code, duration_ms, extra={
                "method": method, "path": path, "status": status_code,
                "duration_ms": duration_ms, "principal": name,
                "client": client[0] if client else None,
            })

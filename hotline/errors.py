"""The one shape of a refused request: a stable `code`, an HTTP `status`, a Chinese `message`.

Services anywhere raise a subclass of `Refusal`; one handler at the top (hotline.api.errors)
renders it as {"error": {"code", "message", "detail"}}, so routes never catch and translate.
Each capability declares its refusals in its own `errors.py` (wazo-calld's per-plugin
`exceptions.py` is the model). A class that sets `code` is a concrete refusal and registers
itself here; two classes may not claim one code, so a code always means one thing with one
status. Intermediate classes (a capability's base) set no code and cannot be raised.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
REFUSALS: dict[str, type[Refusal]] = {}
"""Every concrete refusal by its code (filled as the capabilities' errors modules load)."""


def _name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class Refusal(Exception):
    """A request refused for a reason the client can act on; nothing was changed."""

    code: ClassVar[str]
    status: ClassVar[int] = 409
    headers: ClassVar[dict[str, str] | None] = None
    """Response headers a refusal of this kind always carries (a 401's challenge)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        code = cls.__dict__.get("code")
        if code is None:
            return
        if not CODE_PATTERN.match(code) or not 400 <= cls.status < 600:
            raise TypeError(f"{cls.__qualname__}: code {code!r} / status {cls.status} is malformed")
        known = REFUSALS.get(code)
        if known is not None and _name(known) != _name(cls):  # the same class again: a reload
            raise TypeError(f"refusal code {code!r} is claimed by {_name(known)} and {_name(cls)}")
        REFUSALS[code] = cls

    def __init__(self, message: str, *, detail: Any = None) -> None:
        if not hasattr(type(self), "code"):
            raise TypeError(f"{type(self).__qualname__} names no code: raise a concrete refusal")
        super().__init__(message)
        self.message = message
        self.detail = detail


# Refusals more than one capability gives, with one meaning -------------------------------------
class InvalidReason(Refusal):
    """A stated reason (a pause, a screening decision) that is empty, too long or unprintable."""

    code = "invalid_reason"
    status = 422


class InvalidDate(Refusal):
    """A day the date pattern lets through but the calendar has not (2026-02-30): 质检 and the
    hall's reports alike."""

    code = "invalid_date"
    status = 422


class InvalidRange(Refusal):
    """A range of days whose start lies after its end (质检, the reports)."""

    code = "invalid_range"
    status = 422


class SeatNotFound(Refusal):
    """No seat with this 工号 (the seats' routes, a three-way request, a callback's dial)."""

    code = "seat_not_found"
    status = 404


class BridgeNotRunning(Refusal):
    """The service runs without the AMI bridge (`serve --no-bridge`, or it is not started): the
    hall's routes, the seats' desk and the callbacks' dialler are all missing then."""

    code = "bridge_not_running"
    status = 503


BRIDGE_NOT_RUNNING = "AMI 桥接未运行（服务以无交换机方式启动，或尚未连接）"


__all__ = ["BRIDGE_NOT_RUNNING", "REFUSALS", "BridgeNotRunning", "InvalidDate", "InvalidRange",
           "InvalidReason", "Refusal", "SeatNotFound"]


BODY_BOUND_KEY = "x-max-body-bytes"
"""A route taking a larger request body than the API's default bound (1 MiB, else refused 413
body_too_large) declares its own in its openapi_extra under this key; hotline.api.body_limit
enforces it before the token check."""

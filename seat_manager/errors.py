"""Refusals of the seat operations (codes and statuses are stable for API clients).

`SeatNotFound` and `BridgeNotRunning` are given by other capabilities too (three-way calls, the
callbacks' dial), which may not import seats: they are declared once in hotline.errors.
"""

from __future__ import annotations

from hotline.errors import BRIDGE_NOT_RUNNING, BridgeNotRunning, InvalidReason, Refusal, SeatNotFound


class SeatError(Refusal):
    """Base of the seat refusals (not raised itself)."""


class PbxUnreachable(SeatError):
    code = "pbx_unreachable"
    status = 503


class PbxTimeout(SeatError):
    code = "pbx_timeout"
    status = 503


class PbxRefused(SeatError):
    code = "pbx_refused"
    status = 409


class AlreadyLoggedIn(SeatError):
    code = "already_logged_in"
    status = 409


class NotLoggedIn(SeatError):
    code = "not_logged_in"
    status = 409


class NotPaused(SeatError):
    code = "not_paused"
    status = 409


__all__ = ["BRIDGE_NOT_RUNNING", "AlreadyLoggedIn", "BridgeNotRunning", "InvalidReason", "NotLoggedIn",
           "NotPaused", "PbxRefused", "PbxTimeout", "PbxUnreachable", "SeatError", "SeatNotFound"]

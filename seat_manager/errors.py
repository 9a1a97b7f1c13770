"""Refusals of the seat operations (codes and statuses are stable for API clients)."""

from __future__ import annotations

from hotline.errors import InvalidReason, Refusal


class SeatError(Refusal):
    """Base of the seat refusals (not raised itself)."""


class SeatNotFound(SeatError):
    code = "seat_not_found"
    status = 404


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


__all__ = ["AlreadyLoggedIn", "InvalidReason", "NotLoggedIn", "NotPaused", "PbxRefused", "PbxTimeout",
           "PbxUnreachable", "SeatError", "SeatNotFound"]

"""Refusals of the callback queue (codes and statuses are stable for API clients).

The four kinds (not found, conflict, not yours, invalid) are kept as bases, so callers may catch a
kind; only the leaves carry a code and are raised. `DepartmentUnexpected` and `UnknownDepartment`
are also the screening desk's and the written channels' refusals (they import them from here);
`SeatNotFound` and `BridgeNotRunning` are declared once in hotline.errors and named here.
"""

from __future__ import annotations

from hotline.errors import BRIDGE_NOT_RUNNING, BridgeNotRunning, Refusal, SeatNotFound


class CallbackError(Refusal):
    """Base of the callback refusals (not raised itself)."""


class NotFound(CallbackError):
    status = 404


class Conflict(CallbackError):
    status = 409


class NotYours(CallbackError):
    status = 403


class Invalid(CallbackError):
    status = 422


class CallbackNotFound(NotFound):
    code = "callback_not_found"


class NothingToClaim(NotFound):
    code = "nothing_to_claim"


class AlreadyClaimed(Conflict):
    code = "already_claimed"


class CallbackClosed(Conflict):
    code = "closed"


class NotDue(Conflict):
    code = "not_due"


class NotClaimed(Conflict):
    code = "not_claimed"


class SeatBusy(Conflict):
    code = "seat_busy"


class NotClaimer(NotYours):
    code = "not_claimer"


class InvalidCallback(Invalid):
    """A callback that cannot be queued (unknown priority, no number): a caller's mistake."""

    code = "invalid_request"


class InvalidOutcome(Invalid):
    code = "invalid_outcome"


class DepartmentRequired(Invalid):
    code = "department_required"


class DepartmentUnexpected(Invalid):
    code = "department_unexpected"


class UnknownDepartment(Invalid):
    """Also the screening desk's and the written channels' refusal of a department that the
    remit table does not name."""

    code = "unknown_department"


class UndiallableNumber(Invalid):
    code = "undiallable_number"


class DialFailed(CallbackError):
    """Asterisk refused or did not answer the Originate; nothing was written."""

    code = "dial_failed"
    status = 502


__all__ = ["BRIDGE_NOT_RUNNING", "AlreadyClaimed", "BridgeNotRunning", "CallbackClosed", "CallbackError",
           "CallbackNotFound", "Conflict", "DepartmentRequired", "DepartmentUnexpected", "DialFailed",
           "Invalid", "InvalidCallback", "InvalidOutcome", "NotClaimed", "NotClaimer", "NotDue", "NotFound",
           "NotYours", "NothingToClaim", "SeatBusy", "SeatNotFound", "UndiallableNumber", "UnknownDepartment"]

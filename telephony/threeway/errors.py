"""Refusals of three-way calls: the request checks (service) and the session's state (machine)."""

from __future__ import annotations

from hotline.errors import Refusal, SeatNotFound


class ThreeWayError(Refusal):
    """Base of the three-way refusals (not raised itself)."""


class SessionNotFound(ThreeWayError):
    code = "session_not_found"
    status = 404


class ThreeWayInProgress(ThreeWayError):
    code = "three_way_in_progress"
    status = 409


class DepartmentOrExpert(ThreeWayError):
    code = "department_or_expert"
    status = 422


class ExpertNotFound(ThreeWayError):
    code = "expert_not_found"
    status = 404


class DepartmentNotFound(ThreeWayError):
    code = "department_not_found"
    status = 404


class DepartmentHasNoExperts(ThreeWayError):
    code = "department_has_no_experts"
    status = 409


class CallNotFound(ThreeWayError):
    code = "call_not_found"
    status = 404


class SeatNotOnCall(ThreeWayError):
    code = "seat_not_on_call"
    status = 409


class CallNotConnected(ThreeWayError):
    code = "call_not_connected"
    status = 409


class CallNotTwoParty(ThreeWayError):
    code = "call_not_two_party"
    status = 409


class RequestRefused(ThreeWayError):
    """The operator asked for something the session's state does not allow (the machine's)."""

    status = 409


class NotDialling(RequestRefused):
    code = "not_dialling"


class NoExpertInCall(RequestRefused):
    code = "no_expert_in_call"


class NotInConference(RequestRefused):
    code = "not_in_conference"


class AlreadyOver(RequestRefused):
    code = "already_over"


__all__ = ["AlreadyOver", "CallNotConnected", "CallNotFound", "CallNotTwoParty", "DepartmentHasNoExperts",
           "DepartmentNotFound", "DepartmentOrExpert", "ExpertNotFound", "NoExpertInCall", "NotDialling",
           "NotInConference", "RequestRefused", "SeatNotFound", "SeatNotOnCall", "SessionNotFound",
           "ThreeWayError", "ThreeWayInProgress"]

"""The refusals of authentication and roles: who may call, and for which seat.

Raised by the role dependency and the own-seat rule in front of every capability's routes and
rendered by the one Refusal handler, so a 401 or 403 has the shape and Chinese message of any
other refusal. A 401 also carries the RFC 6750 challenge.
"""

from __future__ import annotations

from typing import ClassVar

from hotline.errors import Refusal


class AuthRefusal(Refusal):
    """A request refused before any capability saw it (the token, its role or its seat)."""


class MissingToken(AuthRefusal):
    """No `Authorization: Bearer` header: the challenge names no error (RFC 6750 §3.1)."""

    code = "missing_token"
    status = 401
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": "Bearer"}


class InvalidToken(AuthRefusal):
    """A token was presented but is unknown or revoked."""

    code = "invalid_token"
    status = 401
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer error="invalid_token"'}


class RoleForbidden(AuthRefusal):
    """The token's role may not call this route."""

    code = "forbidden"
    status = 403


class NotYourSeat(AuthRefusal):
    """An operator token acting for a seat it is not bound to (hotline.auth.seats)."""

    code = "not_your_seat"
    status = 403


class TokenCheckUnavailable(AuthRefusal):
    """The token could not be checked: the database did not answer."""

    code = "database_unavailable"
    status = 503


MISSING_TOKEN = "需要 API 令牌：请在请求头中发送 Authorization: Bearer <令牌>"
INVALID_TOKEN = "API 令牌不存在或已被吊销"
DATABASE_UNAVAILABLE = "数据库暂时不可用，无法核对令牌，请稍后再试"

__all__ = ["DATABASE_UNAVAILABLE", "INVALID_TOKEN", "MISSING_TOKEN", "AuthRefusal", "InvalidToken",
           "MissingToken", "NotYourSeat", "RoleForbidden", "TokenCheckUnavailable"]

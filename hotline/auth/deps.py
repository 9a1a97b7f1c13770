"""FastAPI dependencies for authentication and roles, usable by every capability's router.

Every route declares the roles it admits with `require_role(...)`; the returned dependency is a
`RoleRequirement`, which `route_roles` finds again by walking a route's dependencies, so the
application refuses to start with a route that forgot it (and a test can check the same).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError

from hotline.auth.principal import PRINCIPAL_STATE_KEY, Principal
from hotline.auth.roles import Role, parse_role
from hotline.auth.token_cache import token_cache
from hotline.auth.tokens import authenticate
from hotline.db.engine import SessionFactory

log = logging.getLogger(__name__)

BEARER_SCHEME_NAME = "bearer"

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name=BEARER_SCHEME_NAME,
    bearerFormat="opaque",
    description="A token created with `hotline token add --role ROLE --name NAME`.",
)


def roles_text(roles: Iterable[Role], separator: str = ", ") -> str:
    """Roles in their fixed order (admin, operator, monitor), as docs and errors state them."""
    present = set(roles)
    return separator.join(role.value for role in Role if role in present)


def _unauthorized(code: str, message: str, *, invalid: bool) -> HTTPException:
    # RFC 6750: say "Bearer"; name the error only when a token was actually presented.
    challenge = 'Bearer error="invalid_token"' if invalid else "Bearer"
    return HTTPException(status.HTTP_401_UNAUTHORIZED,
                         detail={"code": code, "message": message},
                         headers={"WWW-Authenticate": challenge})


class RoleRequirement:
    """The dependency `require_role` returns: authenticates, then checks the role."""

    def __init__(self, roles: Iterable[Role | str]) -> None:
        listed = frozenset(parse_role(r) if isinstance(r, str) else r for r in roles)
        if not listed:
            raise ValueError("require_role needs at least one role")
        self.roles: frozenset[Role] = listed | {Role.ADMIN}

    def __repr__(self) -> str:
        return f"require_role({', '.join(sorted(self.roles))})"

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> Principal:
        if credentials is None:
            raise _unauthorized("missing_token",
                                "an API token is required: send 'Authorization: Bearer <token>'",
                                invalid=False)
        # From memory when the token was seen lately (hotline.auth.token_cache says why and
        # how revocations reach it); otherwise one hop to a worker thread for the lookup.
        sessions = request.app.state.sessionmaker
        principal = await token_cache(request.app.state, sessions).principal(
            credentials.credentials, partial(_lookup, sessions))
        if principal is None:
            raise _unauthorized("invalid_token", "the API token is unknown or revoked",
                                invalid=True)
        # For the request log, which prints the name (never the token).
        setattr(request.state, PRINCIPAL_STATE_KEY, principal)
        if principal.role not in self.roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail={
                "code": "forbidden",
                "message": f"this needs role {roles_text(self.roles, ' or ')}; "
                           f"token {principal.name!r} has role {principal.role.value}",
            })
        return principal


def _lookup(sessions: SessionFactory, plaintext: str) -> Principal | None:
    try:
        with sessions() as session:
            principal = authenticate(session, plaintext)
            if session.dirty:
                session.commit()  # last_used_at, at most once a minute per token
            return principal
    except SQLAlchemyError as exc:
        log.error("token check failed: database unavailable: %s", exc.__class__.__name__)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            detail={"code": "database_unavailable",
                                    "message": "the database is unavailable"}) from None


def require_role(*roles: Role | str) -> RoleRequirement:
    """Admit callers whose token has one of `roles` (admin is always admitted).

    `principal: Annotated[Principal, Depends(require_role(Role.OPERATOR))]`, or on a whole
    router: `APIRouter(dependencies=[Depends(require_role(*READERS))])`.
    """
    return RoleRequirement(roles)


def _requirements(dependant: Dependant) -> Iterable[RoleRequirement]:
    for dependency in dependant.dependencies:
        if isinstance(dependency.call, RoleRequirement):
            yield dependency.call
        yield from _requirements(dependency)


def route_roles(dependant: Dependant) -> frozenset[Role] | None:
    """The roles a route admits (all its requirements together), or None if it declares none.

    Pass the route's effective dependant (see hotline.api.app.route_table): with FastAPI's
    nested routers, dependencies given to include_router live there, not on the APIRoute.
    """
    found = list(_requirements(dependant))
    if not found:
        return None
    return frozenset.intersection(*(requirement.roles for requirement in found))

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

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError

from hotline.auth.errors import (
    DATABASE_UNAVAILABLE,
    INVALID_TOKEN,
    MISSING_TOKEN,
    InvalidToken,
    MissingToken,
    RoleForbidden,
    TokenCheckUnavailable,
)
from hotline.auth.principal import PRINCIPAL_STATE_KEY, Principal
from hotline.auth.roles import ADMINS, OPERATORS, READERS, ROLE_ZH, Role, parse_role
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


def roles_zh(roles: Iterable[Role]) -> str:
    """Roles as a person reads them in a refusal: 管理员、话务员 (in the fixed order)."""
    present = set(roles)
    return "或".join(f"{ROLE_ZH[role]}（{role.value}）" for role in Role if role in present)


def role_refusal(principal: Principal, roles: Iterable[Role]) -> RoleForbidden:
    """403: the token's role is not among those the route admits."""
    return RoleForbidden(f"此操作需要{roles_zh(roles)}令牌；令牌“{principal.name}”的角色是"
                         f"{roles_zh([principal.role])}",
                         detail={"roles": [r.value for r in Role if r in set(roles)],
                                 "role": principal.role.value})


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
            raise MissingToken(MISSING_TOKEN)
        # From memory when the token was seen lately (hotline.auth.token_cache says why and
        # how revocations reach it); otherwise one hop to a worker thread for the lookup.
        sessions = request.app.state.sessionmaker
        principal = await token_cache(request.app.state, sessions).principal(
            credentials.credentials, partial(_lookup, sessions))
        if principal is None:
            raise InvalidToken(INVALID_TOKEN)
        # For the request log, which prints the name (never the token).
        setattr(request.state, PRINCIPAL_STATE_KEY, principal)
        if principal.role not in self.roles:
            raise role_refusal(principal, self.roles)
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
        raise TokenCheckUnavailable(DATABASE_UNAVAILABLE) from None


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


# The principal by role, declared once for every router (capabilities' and the application's).
ReaderDep = Annotated[Principal, Depends(require_role(*READERS))]
OperatorDep = Annotated[Principal, Depends(require_role(*OPERATORS))]
AdminDep = Annotated[Principal, Depends(require_role(*ADMINS))]

"""The flat table of every route an app serves, with the roles each admits.

Since FastAPI 0.137, `app.routes` holds nested `_IncludedRouter` nodes instead of copies of
the routes, so a naive walk over it finds no APIRoute and a guard built on it passes silently.
`fastapi.routing.iter_route_contexts` (0.137.2+) flattens the tree with the effective path and
dependencies; older versions still have the flat list.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from hotline.auth.deps import route_roles
from hotline.auth.roles import Role
from hotline.errors import BODY_BOUND_KEY

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # FastAPI < 0.137.2: app.routes is already flat
    iter_route_contexts = None


@dataclass(frozen=True)
class RouteInfo:
    path: str
    methods: frozenset[str]
    is_api: bool  # an APIRoute (an endpoint), as opposed to docs, mounts, ...
    roles: frozenset[Role] | None  # None: declares no role
    body_bound: int | None = None  # the route's own request-body bound (hotline.errors.BODY_BOUND_KEY)

    def __str__(self) -> str:
        return f"{','.join(sorted(self.methods)) or '*'} {self.path}"


def _contexts(app: FastAPI) -> Iterator[tuple[Any, Any]]:
    """(original route, effective route) pairs; the effective one has the full path."""
    if iter_route_contexts is None:
        for route in app.routes:
            yield route, route
        return
    for context in iter_route_contexts(app.routes):
        yield context.original_route, context


def route_table(app: FastAPI) -> list[RouteInfo]:
    table = []
    for original, effective in _contexts(app):
        is_api = isinstance(original, APIRoute)
        path = str(getattr(effective, "path", "") or "")
        if is_api:  # as OpenAPI names it: "/x/{id}" also for a route declared "/x/{id:int}"
            path = str(getattr(effective, "path_format", None) or path)
        table.append(RouteInfo(
            path=path,
            methods=frozenset(getattr(effective, "methods", None) or ()),
            is_api=is_api,
            roles=route_roles(effective.dependant) if is_api else None,
            body_bound=(original.openapi_extra or {}).get(BODY_BOUND_KEY) if is_api else None,
        ))
    return table

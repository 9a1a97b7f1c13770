"""The application factory: config in, a fully wired FastAPI app out.

Everything the routes need hangs off `app.state` (config, engine, sessionmaker, ami_status),
so tests build as many independent apps as they like. Every route must declare its roles:
the factory refuses to build an app with an unguarded route, and the OpenAPI description of
each route states its roles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from hotline.api.ami_status import AmiStatus, NotStartedAmiStatus
from hotline.api.body_limit import BodyLimitMiddleware, declared_bounds
from hotline.api.errors import ERROR_RESPONSES, document_error_bodies, install_error_handlers
from hotline.api.lifespan import Component, make_lifespan
from hotline.api.routes import events, health, me
from hotline.api.routing import route_table
from hotline.api.version import service_version
from hotline.auth.deps import roles_text
from hotline.config import HotlineConfig
from hotline.db.engine import make_engine, make_session_factory
from hotline.live import LiveFeed
from hotline.logging import RequestLogMiddleware

API_PREFIX = "/api"
DOCS_URL = f"{API_PREFIX}/docs"
OPENAPI_URL = f"{API_PREFIX}/openapi.json"
CORE_ROUTERS: tuple[APIRouter, ...] = (health.router, me.router, events.router)
ROLES_HEADING = "**Roles:**"


class UnguardedRouteError(RuntimeError):
    """A route without `require_role(...)`: refusing to serve it to anyone who asks."""


PagesMount = Callable[[FastAPI], Sequence[str]]
"""Mounts public pages (HTML and static files, no data) on the app; returns their paths."""


def _check_guards(app: FastAPI, public_pages: Sequence[str] = ()) -> None:
    """Every endpoint declares its roles; anything else served must be a known public page."""
    public = {app.docs_url, app.openapi_url, *public_pages}
    table = route_table(app)
    if not any(route.is_api for route in table):
        raise UnguardedRouteError("found no API routes: the route walk is broken")
    for route in table:
        if route.is_api and route.roles is None:
            raise UnguardedRouteError(f"route {route} declares no role; add "
                                      "Depends(require_role(...)) to it or to its router")
        if not route.is_api and route.path not in public:
            raise UnguardedRouteError(f"route {route} is not an API route and not a known "
                                      "public page; it could not be guarded by role")


def _document_roles(app: FastAPI) -> None:
    """State each route's roles in its OpenAPI description (computed, so it cannot drift)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        document_error_bodies(schema)
        for route in route_table(app):
            if not route.is_api or route.roles is None:
                continue
            for method in route.methods:
                operation = schema.get("paths", {}).get(route.path, {}).get(method.lower())
                if operation is not None:
                    line = f"{ROLES_HEADING} {roles_text(route.roles)}"
                    operation["description"] = \
                        f"{operation.get('description', '')}\n\n{line}".strip()
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(config: HotlineConfig, *, ami_status: AmiStatus | None = None,
               extra_routers: Sequence[APIRouter] = (),
               components: Sequence[Component] = (), engine: Engine | None = None,
               root_routers: Sequence[APIRouter] = (), pages: PagesMount | None = None,
               live: LiveFeed | None = None) -> FastAPI:
    """Build the API for `config`.

    `engine` lets the composition root share one connection pool between the routes and its
    components; without it the app makes its own from `[database] url`.

    `extra_routers` are mounted under /api beside the core routes (capabilities, tests);
    `components` start with the app and stop with it (see hotline.api.lifespan).
    `root_routers` are mounted outside /api (`/metrics`, where scrapers look for it), still
    role-guarded; `pages` mounts the web pages. `live` is the feed behind `/api/events` (the
    capabilities announce on it through the notifiers the composition root hands them).
    """
    status = ami_status if ami_status is not None else NotStartedAmiStatus()
    if not isinstance(status, AmiStatus):
        raise TypeError(f"ami_status {status!r} lacks connected/last_error/connected_since")
    app = FastAPI(
        title="hotline",
        summary="12345 热线: telephony bridge and voicemail triage",
        version=service_version(),
        docs_url=DOCS_URL,
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        swagger_ui_oauth2_redirect_url=None,  # bearer tokens only: no OAuth2 flow
        lifespan=make_lifespan(components),
    )
    if engine is None:
        engine = make_engine(config.database.url)
    app.state.config = config
    app.state.engine = engine
    app.state.sessionmaker = make_session_factory(engine)
    app.state.ami_status = status
    app.state.live = live if live is not None else LiveFeed()

    install_error_handlers(app)
    body_bounds: dict[str, int] = {}  # the routes' own bounds, filled once they are mounted
    app.add_middleware(BodyLimitMiddleware, bounds=body_bounds)  # before anything reads a body (413)
    app.add_middleware(RequestLogMiddleware)  # added last: outermost, sees the final status
    for router in (*CORE_ROUTERS, *extra_routers):
        app.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    for router in root_routers:
        app.include_router(router, responses=ERROR_RESPONSES)
    body_bounds.update(declared_bounds(app))
    public_pages = pages(app) if pages is not None else ()
    _check_guards(app, public_pages)
    _document_roles(app)
    return app

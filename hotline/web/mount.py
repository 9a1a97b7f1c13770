"""Serve the pages and their static files from the application.

The pages hold no data and no secret: the API token lives in the browser (localStorage) and goes
only into Authorization headers. The headers below keep the pages from running anything but
their own scripts and from leaking the address to other sites.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.staticfiles import PathLike
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_PATH = "/static"
PAGES: dict[str, str] = {
    "/": "index.html",
    "/wallboard": "wallboard.html",
    "/callbacks": "callbacks.html",
    "/operator": "operator.html",
    "/screening": "screening.html",
    "/messages": "messages.html",
    "/reports": "reports.html",
    "/qa": "qa.html",
}
PUBLIC_PATHS: frozenset[str] = frozenset({*PAGES, STATIC_PATH})
"""Every non-API path `mount_web` adds; the app's route guard must admit exactly these."""

HTML_MEDIA_TYPE = "text/html; charset=utf-8"
REVALIDATE = "no-cache"  # always ask (ETag makes it cheap): an upgrade never meets stale scripts
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self' blob:",  # voicemail audio is fetched with the bearer header into a blob
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
PAGE_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": REVALIDATE,
}


class RevalidatedStaticFiles(StaticFiles):
    """Static files that the browser revalidates on every load."""

    def file_response(self, full_path: PathLike, stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = REVALIDATE
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _page(file: Path) -> Callable[[Request], Awaitable[Response]]:
    async def serve(_request: Request) -> Response:
        return FileResponse(file, media_type=HTML_MEDIA_TYPE, headers=PAGE_HEADERS)

    return serve


def mount_web(app: FastAPI) -> frozenset[str]:
    """Add the pages (`PAGES`) and the static files (`STATIC_PATH`) to `app`; their public paths."""
    for path, name in PAGES.items():
        file = STATIC_DIR / name
        if not file.is_file():
            raise FileNotFoundError(f"web page {file} is missing from the installation")
        app.router.add_route(path, _page(file), methods=["GET"], name=f"page:{name}",
                             include_in_schema=False)
    app.mount(STATIC_PATH, RevalidatedStaticFiles(directory=STATIC_DIR), name="static")
    return PUBLIC_PATHS

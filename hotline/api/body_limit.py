"""Refuse oversized request bodies before anything reads them (413), token check included.

A route's body is parsed (and a dependency's token looked up) only after the whole body has been
received, so without a bound a 20 MB POST costs its size several times over in memory whoever
sends it. A declared Content-Length over the limit is answered at once, unread; a body without
one (chunked) is buffered here up to the limit and refused as soon as it goes past it.

The limit is MAX_BODY_BYTES, or the larger bound a route declares for itself in its
`openapi_extra` under BODY_BOUND_KEY (the file import); `declared_bounds` collects them, so the
bound a route documents is the one enforced here, before its token check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Final

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.api.errors import error_body
from hotline.api.routing import route_table

MAX_BODY_BYTES: Final = 1024 * 1024
"""The API takes small JSON documents only (the largest: a work-order note)."""
BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def declared_bounds(app: FastAPI) -> dict[str, int]:
    """Each route's declared body bound by its full path (routes without parameters only)."""
    bounds: dict[str, int] = {}
    for route in route_table(app):
        if route.body_bound is not None:
            if "{" in route.path:
                raise ValueError(f"{route.path}: a body bound is for a path without parameters")
            bounds[route.path] = int(route.body_bound)
    return bounds


class BodyLimitMiddleware:
    """Pure ASGI, so nothing upstream has buffered the body yet."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES,
                 bounds: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.bounds = bounds if bounds is not None else {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.bounds.get(scope.get("path", ""), self.max_bytes)
        declared = _content_length(scope)
        if declared == "bad":
            await _refuse(send, 400, "bad_request", "请求头 Content-Length 格式不对")
            return
        if isinstance(declared, int):
            if declared > limit:
                await _refuse(send, 413, "body_too_large", _too_large(limit))
                return
            await self.app(scope, receive, send)
            return
        chunks = await _read_bounded(receive, limit)
        if chunks is None:
            await _refuse(send, 413, "body_too_large", _too_large(limit))
            return
        await self.app(scope, _replay(chunks, receive), send)


def _too_large(limit: int) -> str:
    return f"请求体过大：最多 {limit} 字节"


async def _read_bounded(receive: Receive, limit: int) -> list[Message] | None:
    """A body of unknown length, kept while within the limit; None once past it."""
    chunks: list[Message] = []
    size = 0
    while True:
        message = await receive()
        chunks.append(message)
        if message["type"] != "http.request":
            return chunks
        size += len(message.get("body", b""))
        if size > limit:
            return None
        if not message.get("more_body", False):
            return chunks


def _content_length(scope: Scope) -> int | str | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else "bad"
    return None


def _replay(chunks: list[Message], receive: Receive) -> Receive:
    pending = list(chunks)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps(error_body(code, message), ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})

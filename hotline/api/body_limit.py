"""Refuse oversized request bodies before anything reads them (413), token check included.

A route's body is parsed (and a dependency's token looked up) only after the whole body has been
received, so without a bound a 20 MB POST costs its size several times over in memory whoever
sends it. A declared Content-Length over the limit is answered at once, unread; a body without
one (chunked) is buffered here up to the limit and refused as soon as it goes past it.
"""

from __future__ import annotations

import json
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.api.errors import error_body

MAX_BODY_BYTES: Final = 1024 * 1024
"""The API takes small JSON documents only (the largest: a work-order note)."""
BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyLimitMiddleware:
    """Pure ASGI, so nothing upstream has buffered the body yet."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == "bad":
            await _refuse(send, 400, "bad_request", "请求头 Content-Length 格式不对")
            return
        if isinstance(declared, int):
            if declared > self.max_bytes:
                await _refuse(send, 413, "body_too_large", self._too_large())
                return
            await self.app(scope, receive, send)
            return
        chunks = await self._read_bounded(receive)
        if chunks is None:
            await _refuse(send, 413, "body_too_large", self._too_large())
            return
        await self.app(scope, _replay(chunks, receive), send)

    def _too_large(self) -> str:
        return f"请求体过大：最多 {self.max_bytes} 字节"

    async def _read_bounded(self, receive: Receive) -> list[Message] | None:
        """A body of unknown length, kept while within the limit; None once past it."""
        chunks: list[Message] = []
        size = 0
        while True:
            message = await receive()
            chunks.append(message)
            if message["type"] != "http.request":
                return chunks
            size += len(message.get("body", b""))
            if size > self.max_bytes:
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

"""The live event stream (Server-Sent Events) that the wallboard and consoles listen to.

Server-Sent Events rather than WebSocket: one direction is all the pages need, it passes every
proxy as plain HTTP, and the bearer header works (the pages read it with fetch()). Each stream
opens with `hello`; a client refetches its full state on every (re)connect and on `resync`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from hotline.api.deps import ReaderDep
from hotline.api.version import service_version
from hotline.auth.principal import Principal
from hotline.auth.token_cache import token_cache
from hotline.auth.tokens import token_still_active
from hotline.live import LiveEvent, LiveFeed

router = APIRouter(tags=["live"])

KEEPALIVE_SECONDS = 15.0
REVALIDATE_SECONDS = 2.0
"""How often an open stream asks whether its token was revoked (then it ends)."""
RETRY_MS = 2000
MEDIA_TYPE = "text/event-stream"
EVENT_KINDS = ("hello", "seat", "queue", "calls", "voicemails", "callbacks", "messages",
               "resync")

STREAM_DESCRIPTION = f"""Role: monitor, operator or admin. A `text/event-stream` that stays open.

Each frame is `event: <kind>` and `data: <one JSON object>`; kinds: {", ".join(EVENT_KINDS)}.
`seat` carries the seat as `GET /api/seats` shows it (numbers masked for monitors); `queue` the
callers waiting; `calls` the number of calls in progress; `voicemails` and `callbacks` say that the
lists changed; `messages` that written messages were received or decided (`reason`, `ids`,
`state`); `resync` says this stream fell behind and lost events. Refetch the full state on every
(re)connect and on `resync`. A `: keepalive` comment comes every {KEEPALIVE_SECONDS:.0f} s."""

EVENT_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["event", "data"],
    "description": "one frame; OpenAPI 3.1 describes an event stream by the schema of each event",
    "properties": {"event": {"enum": list(EVENT_KINDS)},
                   "data": {"type": "string", "contentMediaType": "application/json"},
                   "retry": {"type": "integer"}, "id": {"type": "string"}}}
STREAM_EXAMPLE = ('event: hello\ndata: {"server_time": "2026-11-28T09:00:00+08:00", '
                  '"timezone": "Asia/Shanghai", "version": "0.1.0"}\n\n'
                  'event: seat\ndata: {"seat_id": "07", "state": "on_call", ...}\n\n')


def frame(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n".encode()


async def _stream(request: Request, feed: LiveFeed, principal: Principal) -> AsyncIterator[bytes]:
    # Subscribed inside the generator, so the `finally` that closes it always runs.
    subscription = feed.subscribe()
    try:
        tz = request.app.state.config.hall.tz
        yield f"retry: {RETRY_MS}\n".encode() + frame("hello", {
            "server_time": datetime.now(tz).isoformat(), "timezone": tz.key,
            "version": service_version()})
        last_sent = last_checked = time.monotonic()
        while True:
            event: LiveEvent | None = await subscription.next_event(REVALIDATE_SECONDS)
            now = time.monotonic()
            if now - last_checked >= REVALIDATE_SECONDS:
                last_checked = now
                if not await _still_allowed(request, principal):
                    return  # revoked: the client's reconnect then gets its 401
            if event is None:
                if now - last_sent < KEEPALIVE_SECONDS:
                    continue
                if await request.is_disconnected():
                    return
                last_sent = now
                yield b": keepalive\n\n"
                continue
            encoded = feed.frame(event, principal, frame)
            if encoded is not None:
                last_sent = now
                yield encoded
    finally:
        subscription.close()


async def _still_allowed(request: Request, principal: Principal) -> bool:
    """The stream's token is still active (a principal without a token id is not checked).
    Answered from the token cache's table read, which serves every open stream at once; the
    database is asked only when that read is too old."""
    token_id = principal.token_id
    if token_id is None:
        return True
    sessions = request.app.state.sessionmaker
    known = await token_cache(request.app.state, sessions).still_active(token_id)
    if known is not None:
        return known

    def check() -> bool:
        with sessions() as session:
            return token_still_active(session, token_id)

    return await asyncio.to_thread(check)


@router.get("/events", summary="Live changes of seats, calls, the queue, voicemails and callbacks",
            description=STREAM_DESCRIPTION, response_class=StreamingResponse,
            responses={200: {"description": "the event stream",
                             "content": {MEDIA_TYPE: {"schema": EVENT_SCHEMA,
                                                      "example": STREAM_EXAMPLE}}}})
async def events(request: Request, principal: ReaderDep) -> StreamingResponse:
    feed: LiveFeed = request.app.state.live
    return StreamingResponse(_stream(request, feed, principal), media_type=MEDIA_TYPE,
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

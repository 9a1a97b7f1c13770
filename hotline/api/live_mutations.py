"""Tell the live feed when a request changed a list that open pages show.

The callback and voicemail routes change rows in the store; rather than teach every route about
the feed, the composition root names which path prefixes feed which kinds, and this middleware
publishes after any successful change under them. Pure ASGI, so streams pass untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hotline.live import LiveFeed

CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SUCCESS_BELOW = 400

Announcement = tuple[str, dict[str, Any]]
"""(kind, payload) published after a successful change."""


class LiveMutationMiddleware:
    def __init__(self, app: ASGIApp, feed: LiveFeed,
                 announcements: Mapping[str, Sequence[Announcement]]) -> None:
        self.app = app
        self.feed = feed
        self.announcements = announcements

    def _for(self, path: str) -> Sequence[Announcement]:
        for prefix, announced in self.announcements.items():
            if path == prefix or path.startswith(prefix + "/"):
                return announced
        return ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in CHANGING_METHODS:
            await self.app(scope, receive, send)
            return
        announced = self._for(scope["path"])
        if not announced:
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if status < SUCCESS_BELOW:
            for kind, payload in announced:
                self.feed.publish(kind, payload)

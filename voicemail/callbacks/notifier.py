"""What the callback queue announces when it changed, told to a notifier it is handed.

Routes call `changed()` after their unit of work committed; the sweeper calls `claims_expired()`
after it returned expired claims to the queue. How it reaches open pages is decided at the top
(hotline/announce.py).
"""

from __future__ import annotations

from typing import Protocol

from fastapi import Request


class CallbackNotifier(Protocol):
    def changed(self) -> None:
        """A callback was claimed, released, dialled or given its outcome."""

    def claims_expired(self) -> None:
        """Claims held too long went back to the queue."""


class SilentCallbackNotifier:
    """For an application or a worker assembled without a feed (tests, the CLI)."""

    def changed(self) -> None:
        pass

    def claims_expired(self) -> None:
        pass


SILENT = SilentCallbackNotifier()
STATE_KEY = "callback_notifier"


def get_callback_notifier(request: Request) -> CallbackNotifier:
    """The notifier the composition root put on the app (silent when it put none)."""
    return getattr(request.app.state, STATE_KEY, SILENT)


__all__ = ["SILENT", "STATE_KEY", "CallbackNotifier", "SilentCallbackNotifier", "get_callback_notifier"]

"""What voicemail announces when it changed the register, told to a notifier it is handed.

The capability names its own changes; how they reach open pages (the live feed) is decided at
the top (hotline/announce.py), so no route or worker knows of the feed, and nothing is guessed
from a URL. Called after the change is committed, once per change.
"""

from __future__ import annotations

from typing import Protocol

from fastapi import Request


class VoicemailNotifier(Protocol):
    def registered(self) -> None:
        """New messages entered the register (an ingestion pass registered some)."""

    def triaged(self) -> None:
        """Triage decided messages (and so may have queued or withdrawn callbacks)."""

    def overridden(self) -> None:
        """Staff decided, confirmed or undid a message (its callback may have changed too)."""


class SilentVoicemailNotifier:
    """For an application or a worker assembled without a feed (tests, the CLI)."""

    def registered(self) -> None:
        pass

    def triaged(self) -> None:
        pass

    def overridden(self) -> None:
        pass


SILENT = SilentVoicemailNotifier()
STATE_KEY = "voicemail_notifier"


def get_voicemail_notifier(request: Request) -> VoicemailNotifier:
    """The notifier the composition root put on the app (silent when it put none)."""
    return getattr(request.app.state, STATE_KEY, SILENT)


__all__ = ["SILENT", "STATE_KEY", "SilentVoicemailNotifier", "VoicemailNotifier", "get_voicemail_notifier"]

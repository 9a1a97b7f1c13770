"""The capabilities' notifiers, implemented over the live feed: what each announced change puts on
`/api/events` (the top floor decides; the capabilities only say what changed).

Kinds and payloads are the ones the pages already follow: `voicemails` and `callbacks`, each with
a `reason`, and `messages` (the written channels: the reason and the ids). A message decided by
triage or by staff may also have queued or withdrawn a callback, so those changes announce both
lists.
"""

from __future__ import annotations

from collections.abc import Callable

from hotline.live import LiveFeed
from written.notify import KIND_MESSAGES, MessagesChanged

KIND_VOICEMAILS = "voicemails"
KIND_CALLBACKS = "callbacks"


class LiveVoicemailNotifier:
    """voicemail.notifier.VoicemailNotifier over the feed; `on_registered` runs first (wakes triage)."""

    def __init__(self, feed: LiveFeed, on_registered: Callable[[], None] | None = None) -> None:
        self.feed = feed
        self.on_registered = on_registered

    def registered(self) -> None:
        if self.on_registered is not None:
            self.on_registered()
        self.feed.publish(KIND_VOICEMAILS, {"reason": "registered"})

    def triaged(self) -> None:
        self.feed.publish(KIND_VOICEMAILS, {"reason": "triaged"})
        self.feed.publish(KIND_CALLBACKS, {"reason": "triaged"})

    def overridden(self) -> None:
        self.feed.publish(KIND_VOICEMAILS, {"reason": "overridden"})
        self.feed.publish(KIND_CALLBACKS, {"reason": "triage"})


class LiveCallbackNotifier:
    """voicemail.callbacks.notifier.CallbackNotifier over the feed."""

    def __init__(self, feed: LiveFeed) -> None:
        self.feed = feed

    def changed(self) -> None:
        self.feed.publish(KIND_CALLBACKS, {"reason": "changed"})

    def claims_expired(self) -> None:
        self.feed.publish(KIND_CALLBACKS, {"reason": "claims_expired"})


class LiveMessagesNotifier:
    """written.notify.Notifier over the feed: ids and states only, never a citizen's words."""

    def __init__(self, feed: LiveFeed) -> None:
        self.feed = feed

    def __call__(self, change: MessagesChanged) -> None:
        self.feed.publish(KIND_MESSAGES, change.payload())


__all__ = ["KIND_CALLBACKS", "KIND_MESSAGES", "KIND_VOICEMAILS", "LiveCallbackNotifier",
           "LiveMessagesNotifier", "LiveVoicemailNotifier"]

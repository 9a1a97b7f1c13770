"""Tell open pages that the written messages changed: the capability's one notifier.

The written routes do not know the live feed; the composition root hands them a `Notifier`
(``hotline.wiring`` puts ``live.publish`` behind it). A change is announced only after its
transaction committed, so a page that refetches on the announcement sees it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

KIND_MESSAGES = "messages"
"""The live feed's kind for the written channels (the /messages page listens for it)."""

RECEIVED = "received"
DECIDED = "decided"


@dataclass(frozen=True)
class MessagesChanged:
    """What changed: messages received (`ids`) or one decided (`ids` holds it, `state` its new state)."""

    reason: str
    ids: tuple[int, ...]
    state: str = ""

    def payload(self) -> dict[str, Any]:
        """The event's JSON: ids and states only, never a citizen's number or words."""
        body: dict[str, Any] = {"reason": self.reason, "ids": list(self.ids)}
        if self.state:
            body["state"] = self.state
        return body


class Notifier(Protocol):
    """Called once per committed change."""

    def __call__(self, change: MessagesChanged) -> None: ...


def silent(change: MessagesChanged) -> None:
    """The notifier when nobody listens (the API built without a live feed, tools, tests)."""

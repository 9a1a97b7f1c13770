"""Matching what Asterisk answers to the action that is waiting for it, by ActionID.

Pure bookkeeping, no I/O: the client feeds every incoming Message to ``route`` and gets
back whether it was an answer (consumed here) or an unsolicited event (for listeners).
List actions collect their events until the closing event named in ``event_lists``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from .errors import AmiActionError, AmiError
from .event_lists import EVENT_LIST_HEADER, LIST_COMPLETE, LIST_START, complete_event_for
from .message import KIND_EVENT, KIND_RESPONSE, Message

log = logging.getLogger(__name__)

ABANDONED_MEMORY: Final = 1024
"""How many timed-out/cancelled ActionIDs to remember, so their late answers (and late
list items) are dropped instead of reaching listeners as if they were live events."""
ERROR_RESPONSE: Final = "error"


@dataclass(frozen=True, slots=True)
class Response:
    """The outcome of one action: Asterisk's response plus, for list actions, the events
    that carried its ActionID (in arrival order) and the event that closed the list."""

    action: str
    message: Message
    events: tuple[Message, ...] = ()
    complete: Message | None = None

    @property
    def name(self) -> str | None:
        """The response status: Success, Goodbye, Follows..."""
        return self.message.name

    def get(self, key: str, default: str | None = None) -> str | None:
        """A header of the response message (case-insensitive)."""
        return self.message.get(key, default)

    def __getitem__(self, key: str) -> str:
        return self.message[key]


class _Pending:
    __slots__ = (
        "action",
        "complete_event",
        "events",
        "future",
        "is_list",
        "on_success",
        "response",
    )

    def __init__(
        self,
        action: str,
        future: asyncio.Future[Response],
        on_success: Callable[[Message], None] | None,
    ) -> None:
        self.action = action
        self.future = future
        self.complete_event = complete_event_for(action)
        self.is_list = self.complete_event is not None
        self.on_success = on_success
        self.response: Message | None = None
        self.events: list[Message] = []


class ActionTracker:
    """Pending actions by ActionID; unique ids are "<prefix>-<n>"."""

    def __init__(self, prefix: str, abandoned_memory: int = ABANDONED_MEMORY) -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)
        self._pending: dict[str, _Pending] = {}
        self._abandoned: OrderedDict[str, bool] = OrderedDict()
        self._abandoned_memory = abandoned_memory

    def __len__(self) -> int:
        return len(self._pending)

    def __iter__(self) -> Iterator[str]:
        return iter(tuple(self._pending))

    def new_id(self) -> str:
        """A fresh ActionID, never reused within this process."""
        return f"{self._prefix}-{next(self._counter)}"

    def register(
        self,
        action_id: str,
        action: str,
        *,
        on_success: Callable[[Message], None] | None = None,
    ) -> asyncio.Future[Response]:
        """Start waiting for ``action_id``. ``on_success`` runs synchronously when the success
        response is routed, before any later message is looked at (the login barrier)."""
        if action_id in self._pending:
            raise ValueError(f"ActionID {action_id!r} is already pending")
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = _Pending(action, future, on_success)
        return future

    def discard(self, action_id: str) -> None:
        """Stop waiting (timeout, cancellation); remember the id to drop its late answers."""
        pending = self._pending.pop(action_id, None)
        if pending is None:
            return
        if not pending.future.done():
            pending.future.cancel()
        self._abandoned[action_id] = pending.is_list
        while len(self._abandoned) > self._abandoned_memory:
            self._abandoned.popitem(last=False)

    def fail_all(self, error: AmiError) -> int:
        """Fail every pending action with ``error`` (connection lost); never resend them."""
        failed = 0
        for action_id in tuple(self._pending):
            pending = self._pending.pop(action_id)
            if not pending.future.done():
                pending.future.set_exception(error)
                failed += 1
        return failed

    def route(self, message: Message) -> bool:
        """Deliver an answer to its action. True when consumed; False for events that
        belong to listeners (no ActionID, or one we are not collecting a list for)."""
        kind = message.kind
        action_id = message.action_id
        if action_id is None:
            if kind == KIND_RESPONSE:
                log.warning("AMI response without ActionID dropped: %r", message)
                return True
            return False
        pending = self._pending.get(action_id)
        if pending is None:
            return self._route_orphan(action_id, kind, message)
        if kind == KIND_RESPONSE:
            self._on_response(action_id, pending, message)
            return True
        if kind == KIND_EVENT and pending.is_list:
            self._on_list_event(action_id, pending, message)
            return True
        return False

    def _route_orphan(self, action_id: str, kind: str, message: Message) -> bool:
        if action_id in self._abandoned:
            if kind == KIND_RESPONSE or self._abandoned[action_id]:
                log.debug("late answer to abandoned action %s dropped: %s", action_id, message.name)
                return True
            return False
        if kind == KIND_RESPONSE:
            log.warning("AMI response for unknown ActionID %s dropped: %r", action_id, message)
            return True
        return False

    def _on_response(self, action_id: str, pending: _Pending, message: Message) -> None:
        if pending.response is not None:
            log.warning("second response for %s (%s) ignored: %r", action_id, pending.action, message)
            return
        if (message.name or "").lower() == ERROR_RESPONSE:
            self._finish(action_id, AmiActionError(pending.action, message))
            return
        starts_list = (message.get(EVENT_LIST_HEADER) or "").lower() == LIST_START
        if pending.on_success is not None:
            pending.on_success(message)
        if starts_list and not pending.is_list:
            log.info(
                "%s is not in the event-list table but announced a list; collecting it up to "
                "its 'EventList: Complete' event",
                pending.action,
            )
            pending.is_list = True
        if not starts_list and not pending.events:
            if pending.is_list:
                log.debug("%s answered without a list; nothing to collect", pending.action)
            self._finish(action_id, Response(pending.action, message))
            return
        pending.response = message

    def _on_list_event(self, action_id: str, pending: _Pending, message: Message) -> None:
        name = (message.name or "").lower()
        expected = (pending.complete_event or "").lower()
        marked_complete = (message.get(EVENT_LIST_HEADER) or "").lower() == LIST_COMPLETE
        if name != expected and not marked_complete:
            pending.events.append(message)
            return
        if expected and name != expected:
            log.warning(
                "%s list closed by %s, expected %s: check the event-list table",
                pending.action,
                message.name,
                pending.complete_event,
            )
        if pending.response is None:
            log.warning("%s list completed before its response; using the closing event", action_id)
        response = pending.response or message
        self._finish(action_id, Response(pending.action, response, tuple(pending.events), message))

    def _finish(self, action_id: str, outcome: Response | AmiError) -> None:
        pending = self._pending.pop(action_id)
        if pending.future.done():
            return
        if isinstance(outcome, AmiError):
            pending.future.set_exception(outcome)
        else:
            pending.future.set_result(outcome)

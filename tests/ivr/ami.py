"""A minimal AMI client over a plain asyncio socket, for the IVR tests only.

Frames on bytes (a blank line ends a message) before decoding, so a UTF-8 character split
across reads survives; responses are matched by ActionID; events are kept in arrival order
so a test can wait for one matching a predicate.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

FRAME_END = b"\r\n\r\n"
TIMEOUT_S = 10.0

Message = dict[str, str]


class AmiError(RuntimeError):
    """The PBX refused an action or did not answer in time."""


def parse(frame: bytes) -> Message:
    """One AMI message; repeated keys (e.g. ChanVariable) keep the first value."""
    message: Message = {}
    for line in frame.decode("utf-8", "replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if sep and key not in message:
            message[key.strip()] = value.strip()
    return message


@dataclass
class AmiClient:
    host: str
    port: int
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    events: list[Message] = field(default_factory=list)
    _pending: dict[str, asyncio.Future[list[Message]]] = field(default_factory=dict)
    _lists: dict[str, list[Message]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _task: asyncio.Task[None] | None = None

    async def connect(self, username: str, secret: str, events: str = "on") -> Message:
        self.reader, self.writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), TIMEOUT_S)
        await asyncio.wait_for(self.reader.readline(), TIMEOUT_S)  # banner
        self._task = asyncio.create_task(self._read_loop())
        return await self.action("Login", Username=username, Secret=secret, Events=events)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        if self._task is not None:
            self._task.cancel()

    async def _read_loop(self) -> None:
        assert self.reader is not None
        buffer = b""
        while True:
            chunk = await self.reader.read(65536)
            if not chunk:
                for future in self._pending.values():
                    if not future.done():
                        future.set_exception(AmiError("AMI connection closed"))
                return
            buffer += chunk
            while FRAME_END in buffer:
                frame, buffer = buffer.split(FRAME_END, 1)
                await self._dispatch(parse(frame))

    async def _dispatch(self, message: Message) -> None:
        action_id = message.get("ActionID", "")
        if action_id in self._pending:
            collected = self._lists.setdefault(action_id, [])
            collected.append(message)
            listing = message.get("EventList", "").lower()
            first = len(collected) == 1
            ends = (first and listing != "start") or listing in ("complete", "cancelled")
            if ends:
                future = self._pending.pop(action_id)
                if not future.done():
                    future.set_result(self._lists.pop(action_id))
            return
        async with self._changed:
            self.events.append(message)
            self._changed.notify_all()

    async def send(self, action: str, **fields: object) -> list[Message]:
        """Send an action; return its response plus any list events up to the Complete."""
        assert self.writer is not None
        action_id = f"ivr-{next(self._ids)}"
        future: asyncio.Future[list[Message]] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        lines = [f"Action: {action}", f"ActionID: {action_id}"]
        for key, value in fields.items():
            values = value if isinstance(value, list | tuple) else [value]
            lines += [f"{key}: {item}" for item in values]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("utf-8"))
        await self.writer.drain()
        try:
            return await asyncio.wait_for(future, TIMEOUT_S)
        except TimeoutError:
            self._pending.pop(action_id, None)
            raise AmiError(f"no answer to {action} within {TIMEOUT_S} s") from None

    async def action(self, action: str, **fields: object) -> Message:
        """Send an action that must succeed; return its response."""
        response = (await self.send(action, **fields))[0]
        if response.get("Response") != "Success":
            raise AmiError(f"{action} failed: {response}")
        return response

    async def originate(self, channel: str, **fields: object) -> Message:
        """Originate asynchronously and wait for its OriginateResponse (which names ;1)."""
        response = await self.action("Originate", Channel=channel, Async="true", **fields)
        action_id = response["ActionID"]
        reply = await self.wait_event(lambda e: e.get("Event") == "OriginateResponse"
                                      and e.get("ActionID") == action_id)
        if reply.get("Response") != "Success":
            raise AmiError(f"Originate of {channel} failed: {reply}")
        return reply

    async def wait_event(self, match: Callable[[Message], bool], timeout: float = TIMEOUT_S,
                         start: int = 0) -> Message:
        """The first event (from index `start`) for which `match` is true."""
        async def found() -> Message:
            index = start
            async with self._changed:
                while True:
                    while index < len(self.events):
                        if match(self.events[index]):
                            return self.events[index]
                        index += 1
                    await self._changed.wait()
        try:
            return await asyncio.wait_for(found(), timeout)
        except TimeoutError:
            raise AmiError(f"no matching event within {timeout} s; last events: "
                           f"{[e.get('Event') for e in self.events[-15:]]}") from None


def user_event(name: str, **fields: str) -> Callable[[Message], bool]:
    """Matcher for UserEvent `name` whose headers include `fields`."""
    def match(message: Message) -> bool:
        return (message.get("Event") == "UserEvent" and message.get("UserEvent") == name
                and all(message.get(k) == v for k, v in fields.items()))
    return match

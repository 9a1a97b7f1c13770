"""Recorded AMI traffic served over a real TCP socket, for tests and benchmarks.

Shipped beside the client as panoramisk ships ``testing.py``: the real ``AmiClient`` connects
to a loopback ``ReplayAmiServer`` that speaks AMI (banner, Login checked against a secret,
Logoff, Ping) and answers every other action from a recording, the recorded ActionID rewritten
to the one the client chose. ``play`` then writes a recording's unsolicited events in order,
as fast as the socket takes them or paced at a given rate, so a test or a benchmark sees
exactly what Asterisk sent, through the same framer, tracker and dispatcher as production.

A recording is what ``python -m tests.record_ami`` writes: ``NN-name.txt`` (every byte Asterisk
sent after its banner) and ``sent/NN-name.txt`` (the actions sent, so "the answer to the second
QueueAdd" can be found by the ActionID it had). Frames are cut with a deliberately naive
whole-file split, so the tests can use them as an oracle for the incremental framer.
``AmiSession`` is the other half, for scripted tests against a real Asterisk (the sandbox
PBX) and for the recorder: the real client, every event it delivered kept in order, and
``wait_event`` to wait for one matching a predicate.
Nothing here is used by the service itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from .client import AmiClient
from .errors import AmiActionError, AmiError
from .message import HeaderValue, Message
from .settings import AmiSettings

CRLF: Final = b"\r\n"
FRAME_END: Final = b"\r\n\r\n"
BANNER: Final = b"Asterisk Call Manager/11.0.0\r\n"
SENT_SUBDIR: Final = "sent"
TEST_USER: Final = "hotline"
TEST_SECRET: Final = "s3cret"
PING_TIMESTAMP: Final = "1795813125.000000"
BUILT_IN: Final = frozenset({"login", "ping", "logoff"})
"""Actions the server answers itself unless a handler names them."""

_ACTION_ID_LINE: Final = re.compile(rb"^ActionID: .*$", re.MULTILINE)


# Frames ----------------------------------------------------------------------------------
def wire_bytes(raw: bytes) -> bytes:
    """Traffic as AMI puts it on the wire: CRLF line ends whatever the file uses."""
    return raw.replace(CRLF, b"\n").replace(b"\n", CRLF)


def split_frames(raw: bytes) -> list[bytes]:
    """Naive whole-stream split (no framer involved), blank frames dropped."""
    return [frame for frame in raw.split(FRAME_END) if frame.strip()]


def frame_headers(frame: bytes) -> list[tuple[str, str]]:
    """Simple parse of one frame into (key, value) pairs, blank lines skipped."""
    pairs = []
    for line in frame.decode("utf-8").split("\r\n"):
        if line:  # a capture (06) has a doubled blank line between two events
            key, _, value = line.partition(": ")
            pairs.append((key, value))
    return pairs


def header(frame: bytes, key: str) -> str | None:
    """First value of ``key`` in a raw frame (exact case)."""
    return next((value for name, value in frame_headers(frame) if name == key), None)


def with_action_id(frame: bytes, action_id: str) -> bytes:
    """Rewrite a recorded frame's ActionID to the one the client sent."""
    return _ACTION_ID_LINE.sub(b"ActionID: " + action_id.encode(), frame)


def wire(frames: Iterable[bytes]) -> bytes:
    """Frames back to wire format, each followed by its blank line."""
    return b"".join(frame + FRAME_END for frame in frames)


def event_frame(name: str, **headers: object) -> bytes:
    """One event frame built from headers, for traffic no recording holds."""
    lines = [f"Event: {name}", *(f"{key}: {value}" for key, value in headers.items())]
    return "\r\n".join(lines).encode()


# Recordings ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recording:
    """One capture: the frames Asterisk sent, and the actions that were sent (if known)."""

    name: str
    raw: bytes
    sent: tuple[dict[str, str], ...] = ()

    @classmethod
    def load(cls, path: Path) -> Recording:
        """Read ``path`` and, when present, its ``sent/`` companion."""
        sent_path = path.parent / SENT_SUBDIR / path.name
        sent: tuple[dict[str, str], ...] = ()
        if sent_path.is_file():
            blocks = wire_bytes(sent_path.read_bytes())
            sent = tuple(dict(frame_headers(block)) for block in split_frames(blocks))
        return cls(path.name, wire_bytes(path.read_bytes()), sent)

    @property
    def frames(self) -> list[bytes]:
        return split_frames(self.raw)

    def answer(self, action_id: str) -> list[bytes]:
        """The recorded answer to one action: its response and list events, in order."""
        return [frame for frame in self.frames if header(frame, "ActionID") == action_id]

    def action_id(self, action: str, nth: int = 0) -> str:
        """The ActionID the recorder gave its ``nth`` (0-based) ``action``."""
        matching = [s for s in self.sent if s.get("Action", "").lower() == action.lower()]
        if len(matching) <= nth:
            raise LookupError(f"{self.name}: no {action} number {nth} among the sent actions")
        return matching[nth]["ActionID"]

    def answers(self, action: str) -> list[list[bytes]]:
        """Every recorded answer to ``action``, in the order the actions were sent."""
        folded = action.lower()
        ids = [s["ActionID"] for s in self.sent if s.get("Action", "").lower() == folded]
        return [answer for answer in map(self.answer, ids) if answer]

    def events(self) -> list[bytes]:
        """Recorded events that belong to no action (what listeners see), in order."""
        return [frame for frame in self.frames
                if frame.startswith(b"Event: ") and header(frame, "ActionID") is None]

    def login(self) -> tuple[bytes, list[bytes]]:
        """The Login's success response and the events right behind it (FullyBooted)."""
        frames = self.frames
        first = next(i for i, frame in enumerate(frames) if frame.startswith(b"Response: Success"))
        following = itertools.takewhile(lambda f: f.startswith(b"Event: "), frames[first + 1:])
        return frames[first], list(following)


# Server ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReceivedAction:
    """One action as the server parsed it off the wire."""

    name: str
    action_id: str
    headers: list[tuple[str, str]]
    connection: int

    def get(self, key: str) -> str | None:
        folded = key.lower()
        return next((value for name, value in self.headers if name.lower() == folded), None)


Reply = list[bytes] | None
Handler = Callable[[ReceivedAction], Awaitable[Reply] | Reply]
"""Returns frames (without trailing blank line; ActionID already set) or None for silence."""


def replying(frames: Sequence[bytes]) -> Handler:
    """A handler answering with these recorded frames, ActionID rewritten."""
    if not frames:
        raise LookupError("no recorded answer to reply with")

    def handler(action: ReceivedAction) -> Reply:
        return [with_action_id(frame, action.action_id) for frame in frames]

    return handler


def simple_response(action: ReceivedAction, status: str = "Success", **extra: str) -> bytes:
    """A one-frame response, for actions the recordings do not contain (Ping, Logoff)."""
    lines = [f"Response: {status}", f"ActionID: {action.action_id}"]
    lines.extend(f"{key}: {value}" for key, value in extra.items())
    return "\r\n".join(lines).encode()


@dataclass
class ReplayAmiServer:
    """A loopback AMI endpoint answering from recordings; scriptable per action name.

    ``login`` is the recording whose Login answer (and the events right behind it) every
    successful login gets; ``recordings`` answer the other actions: the n-th action called X
    gets the n-th recorded answer to X (the last one again once they run out). ``handlers``
    (by lower-case action name) and then ``fallback`` come first, for scripted answers;
    ``username`` or ``secret`` None accepts any."""

    login: Recording
    recordings: Sequence[Recording] = ()
    handlers: dict[str, Handler] = field(default_factory=dict)
    fallback: Handler | None = None
    username: str | None = TEST_USER
    secret: str | None = TEST_SECRET
    banner: bytes = BANNER
    after_login: list[bytes] = field(default_factory=list)
    """Extra frames written right behind the login answer, in the same write."""
    received: list[ReceivedAction] = field(default_factory=list)
    connections: int = 0
    connect_times: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._sessions: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._handlers: set[asyncio.Task[object]] = set()
        self._arrived = asyncio.Condition()
        self.logged_in = asyncio.Event()
        """Set while a client is logged in."""
        self._login_ok, self._login_events = self.login.login()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> ReplayAmiServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        """Stop listening, drop every connection and wait until their handlers are done."""
        self.cut()
        if self._server is not None:
            self._server.close()
        for task in tuple(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, *self._handlers, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    # Traffic ------------------------------------------------------------------------------
    def push(self, frames: Iterable[bytes]) -> None:
        """Write frames to every open connection now (unsolicited events)."""
        self.push_raw(wire(frames))

    def push_raw(self, data: bytes) -> None:
        for writer in self._writers:
            if not writer.is_closing():
                writer.write(data)

    async def wait_logged_in(self, timeout: float | None = None) -> None:
        """Wait until a client is logged in (events written now reach it)."""
        async with asyncio.timeout(timeout):
            await self.logged_in.wait()

    async def play(self, frames: Iterable[bytes], *, rate: float | None = None,
                   on_sent: Callable[[int, bytes], None] | None = None) -> int:
        """Write events in order to the logged-in sessions, ``rate`` per second (catching up
        after a late wake-up) or, without a rate, as fast as the socket drains. ``on_sent``
        is told each frame's index right after it was handed to the socket."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        count = 0
        for count, frame in enumerate(frames, 1):
            if rate is not None:
                delay = start + (count - 1) / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            data = frame + FRAME_END
            for writer in tuple(self._sessions):
                if not writer.is_closing():
                    writer.write(data)
            if on_sent is not None:
                on_sent(count - 1, frame)
            if rate is None or count % 64 == 0:
                await self._drain()
        await self._drain()
        return count

    async def _drain(self) -> None:
        for writer in tuple(self._sessions):
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    def cut(self) -> None:
        """Drop every connection abruptly, as a crashing Asterisk would."""
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        self._sessions.clear()
        self.logged_in.clear()

    # Actions seen -------------------------------------------------------------------------
    def actions(self, name: str) -> list[ReceivedAction]:
        folded = name.lower()
        return [action for action in self.received if action.name.lower() == folded]

    async def wait_action(self, name: str, count: int = 1) -> ReceivedAction:
        """Wait until ``count`` actions called ``name`` arrived; return the last one."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.actions(name)) >= count)
        return self.actions(name)[count - 1]

    # Connection ---------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        if handler is not None:
            self._handlers.add(handler)
            handler.add_done_callback(self._handlers.discard)
        self.connections += 1
        self.connect_times.append(asyncio.get_running_loop().time())
        connection = self.connections
        self._writers.append(writer)
        writer.write(self.banner)
        try:
            while True:
                raw = await reader.readuntil(FRAME_END)
                action = _parse_action(raw, connection)
                self.received.append(action)
                async with self._arrived:
                    self._arrived.notify_all()
                task = asyncio.create_task(self._answer(action, writer))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            for sessions in (self._writers, self._sessions):
                with contextlib.suppress(ValueError):
                    sessions.remove(writer)
            if not self._sessions:
                self.logged_in.clear()
            writer.close()

    async def _answer(self, action: ReceivedAction, writer: asyncio.StreamWriter) -> None:
        handler = self.handlers.get(action.name.lower())
        if handler is None and action.name.lower() not in BUILT_IN:
            handler = self.fallback
        if handler is not None:
            reply = handler(action)
            frames = await reply if inspect.isawaitable(reply) else reply
        else:
            frames = self._default(action)
        if frames is not None and not writer.is_closing():
            writer.write(wire(frames))
        name = action.name.lower()
        if name == "login" and frames and frames[0].startswith(b"Response: Success"):
            self._sessions.append(writer)
            self.logged_in.set()
        if name == "logoff" or (name == "login" and not self._accepts(action)):
            await writer.drain()
            writer.close()

    def _accepts(self, action: ReceivedAction) -> bool:
        return all(expected is None or action.get(key) == expected
                   for key, expected in (("Username", self.username), ("Secret", self.secret)))

    def _default(self, action: ReceivedAction) -> Reply:
        name = action.name.lower()
        if name == "login":
            if not self._accepts(action):
                return [simple_response(action, "Error", Message="Authentication failed")]
            ok = with_action_id(self._login_ok, action.action_id)
            return [ok, *self._login_events, *self.after_login]
        if name == "ping":
            return [simple_response(action, Ping="Pong", Timestamp=PING_TIMESTAMP)]
        if name == "logoff":
            return [simple_response(action, "Goodbye", Message="Thanks for all the fish.")]
        recorded = self._recorded(name, len(self.actions(name)) - 1)
        if recorded:
            return [with_action_id(frame, action.action_id) for frame in recorded]
        return [simple_response(action, "Error", Message="Invalid/unknown command")]

    def _recorded(self, name: str, nth: int) -> list[bytes]:
        answers = [answer for recording in self.recordings for answer in recording.answers(name)]
        return answers[min(nth, len(answers) - 1)] if answers else []


def _parse_action(raw: bytes, connection: int) -> ReceivedAction:
    headers = frame_headers(raw[: -len(FRAME_END)])
    values = {key.lower(): value for key, value in reversed(headers)}
    return ReceivedAction(values.get("action", ""), values.get("actionid", ""), headers, connection)


# Scripted sessions against a real Asterisk ---------------------------------------------------
SESSION_TIMEOUT_S: Final = 10.0

EventMatch = Callable[[Message], bool]


class AmiSession:
    """The real AmiClient plus every event it delivered, in order, for scripted tests."""

    def __init__(self, settings: AmiSettings) -> None:
        self.client = AmiClient(settings)
        self.events: list[Message] = []
        self._changed = asyncio.Condition()
        self.client.add_listener(self._keep)

    @classmethod
    async def open(cls, settings: AmiSettings, timeout: float = SESSION_TIMEOUT_S) -> AmiSession:
        """Connect and log in; raises AmiError (with the client's reason) if that fails."""
        session = cls(settings)
        await session.client.start()
        try:
            await session.client.wait_connected(timeout)
        except TimeoutError:
            reason = session.client.last_error or "no answer"
            await session.close()
            raise AmiError(f"AMI login to {settings.host}:{settings.port} failed: {reason}") from None
        return session

    async def close(self) -> None:
        await self.client.stop()

    async def _keep(self, message: Message) -> None:
        async with self._changed:
            self.events.append(message)
            self._changed.notify_all()

    async def send(self, action: str, **fields: HeaderValue) -> list[Message]:
        """The response plus any list events and the closing one; an Error response is
        returned (not raised), for tests that check a refusal."""
        try:
            response = await self.client.send_action(action, **fields)
        except AmiActionError as exc:
            return [exc.message]
        complete = [response.complete] if response.complete is not None else []
        return [response.message, *response.events, *complete]

    async def action(self, action: str, **fields: HeaderValue) -> Message:
        """Send an action that must succeed (AmiActionError otherwise); return its response."""
        return (await self.client.send_action(action, **fields)).message

    async def originate(self, channel: str, **fields: HeaderValue) -> Message:
        """Originate asynchronously and wait for its OriginateResponse (which names ;1)."""
        start = len(self.events)
        response = await self.action("Originate", Channel=channel, Async="true", **fields)
        action_id = response.action_id
        reply = await self.wait_event(
            lambda e: e.name == "OriginateResponse" and e.action_id == action_id, start=start)
        if reply.get("Response") != "Success":
            raise AmiError(f"Originate of {channel} failed: {dict(reply)}")
        return reply

    async def wait_event(self, match: EventMatch, timeout: float = SESSION_TIMEOUT_S,
                         start: int = 0) -> Message:
        """The first event (from index ``start``) for which ``match`` is true."""
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
            names = [event.name for event in self.events[-15:]]
            raise AmiError(f"no matching event within {timeout} s; last events: {names}") from None


def user_event(name: str, **fields: str) -> EventMatch:
    """Matcher for UserEvent ``name`` whose headers include ``fields``."""
    def match(message: Message) -> bool:
        return (message.name == "UserEvent" and message.get("UserEvent") == name
                and all(message.get(k) == v for k, v in fields.items()))
    return match

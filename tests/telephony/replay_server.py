"""Replay of recorded Asterisk 22 AMI traffic for unit tests.

The transcripts under tests/ami_captures/ are recorded from the project's sandbox Asterisk
(`python -m tests.record_ami`); this module cuts them into
frames (with a deliberately naive whole-file split, so it can serve as an oracle for the
incremental framer) and runs a tiny TCP server that answers the client's actions with
recorded frames, ActionIDs rewritten to the ones the client chose.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from tests.ami_transcripts import CAPTURES_DIR

TRANSCRIPT_DIR: Final = CAPTURES_DIR
CRLF: Final = b"\r\n"
FRAME_END: Final = b"\r\n\r\n"
BANNER: Final = b"Asterisk Call Manager/11.0.0\r\n"
LOGIN_TRANSCRIPT: Final = "01-login-corestatus-queuestatus.txt"
LOGIN_ACTION_ID: Final = "a1"
TEST_USER: Final = "hotline"
TEST_SECRET: Final = "s3cret"

_ACTION_ID_LINE: Final = re.compile(rb"^ActionID: .*$", re.MULTILINE)


# Transcripts -----------------------------------------------------------------------------
def transcript_files() -> list[Path]:
    """Every capture, sorted; fails loudly (never skips) if the folder is missing."""
    files = sorted(TRANSCRIPT_DIR.glob("*.txt"))
    if not files:
        raise FileNotFoundError(
            f"no AMI transcripts in {TRANSCRIPT_DIR} (record them: python -m tests.record_ami)"
        )
    return files


def load_transcript(name: str | Path) -> bytes:
    """A capture as AMI puts it on the wire: CRLF line ends whatever the file uses."""
    path = name if isinstance(name, Path) else TRANSCRIPT_DIR / name
    return path.read_bytes().replace(CRLF, b"\n").replace(b"\n", CRLF)


def split_frames(raw: bytes) -> list[bytes]:
    """Naive whole-stream split: the oracle the incremental framer is compared with."""
    return [frame for frame in raw.split(FRAME_END) if frame.strip()]


def oracle_headers(frame: bytes) -> list[tuple[str, str]]:
    """Independent, simple parse of one frame into (key, value) pairs."""
    pairs = []
    for line in frame.decode("utf-8").split("\r\n"):
        if line:  # a capture (06) has a doubled blank line between two events
            key, value = line.split(": ", 1)
            pairs.append((key, value))
    return pairs


def header(frame: bytes, key: str) -> str | None:
    """First value of ``key`` in a raw frame (exact case), for selecting frames in tests."""
    for name, value in oracle_headers(frame):
        if name == key:
            return value
    return None


def frames_for_action(raw: bytes, action_id: str) -> list[bytes]:
    """The recorded answer to one action: its response and list events, in order."""
    return [frame for frame in split_frames(raw) if header(frame, "ActionID") == action_id]


def unsolicited_events(raw: bytes) -> list[bytes]:
    """Recorded events that belong to no action (what listeners should see)."""
    return [
        frame
        for frame in split_frames(raw)
        if frame.startswith(b"Event: ") and header(frame, "ActionID") is None
    ]


def with_action_id(frame: bytes, action_id: str) -> bytes:
    """Rewrite a recorded frame's ActionID to the one the client sent."""
    return _ACTION_ID_LINE.sub(b"ActionID: " + action_id.encode(), frame)


def wire(frames: Iterable[bytes]) -> bytes:
    """Frames back to wire format, each followed by its blank line."""
    return b"".join(frame + FRAME_END for frame in frames)


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


def reply_from_transcript(transcript: str, recorded_action_id: str) -> Handler:
    """A handler answering with the recorded frames of one action, ActionID rewritten."""
    recorded = frames_for_action(load_transcript(transcript), recorded_action_id)
    if not recorded:
        raise LookupError(f"{recorded_action_id} not in {transcript}")

    def handler(action: ReceivedAction) -> Reply:
        return [with_action_id(frame, action.action_id) for frame in recorded]

    return handler


def simple_response(action: ReceivedAction, status: str = "Success", **extra: str) -> bytes:
    """A one-frame response, for actions the captures do not contain (Ping, Logoff)."""
    lines = [f"Response: {status}", f"ActionID: {action.action_id}"]
    lines.extend(f"{key}: {value}" for key, value in extra.items())
    return "\r\n".join(lines).encode()


@dataclass
class ReplayAmiServer:
    """A loopback AMI endpoint answering from recordings; scriptable per action name."""

    handlers: dict[str, Handler] = field(default_factory=dict)
    secret: str = TEST_SECRET
    banner: bytes = BANNER
    after_login: list[bytes] = field(default_factory=list)
    """Extra frames written right behind the login answer, in the same write."""
    received: list[ReceivedAction] = field(default_factory=list)
    connections: int = 0
    connect_times: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._arrived = asyncio.Condition()
        login = load_transcript(LOGIN_TRANSCRIPT)
        frames = split_frames(login)
        first = frames.index(frames_for_action(login, LOGIN_ACTION_ID)[0])
        self._login_ok = frames[first]
        # The events right behind the login answer in the recording (FullyBooted), up to the
        # next action's response.
        following = itertools.takewhile(lambda frame: frame.startswith(b"Event: "), frames[first + 1 :])
        self._login_events = list(following)

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    async def start(self) -> ReplayAmiServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in tuple(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def push(self, frames: Iterable[bytes]) -> None:
        """Write frames to every open connection now (unsolicited events)."""
        data = wire(frames)
        for writer in self._writers:
            if not writer.is_closing():
                writer.write(data)

    def push_raw(self, data: bytes) -> None:
        for writer in self._writers:
            if not writer.is_closing():
                writer.write(data)

    def cut(self) -> None:
        """Drop every connection abruptly, as a crashing Asterisk would."""
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    def actions(self, name: str) -> list[ReceivedAction]:
        folded = name.lower()
        return [action for action in self.received if action.name.lower() == folded]

    async def wait_action(self, name: str, count: int = 1) -> ReceivedAction:
        """Wait until ``count`` actions called ``name`` arrived; return the last one."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.actions(name)) >= count)
        return self.actions(name)[count - 1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
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
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            with contextlib.suppress(ValueError):
                self._writers.remove(writer)
            writer.close()

    async def _answer(self, action: ReceivedAction, writer: asyncio.StreamWriter) -> None:
        handler = self.handlers.get(action.name.lower())
        if handler is not None:
            reply = handler(action)
            frames = await reply if inspect.isawaitable(reply) else reply
        else:
            frames = self._default(action)
        if frames is not None and not writer.is_closing():
            writer.write(wire(frames))
        if action.name.lower() in ("logoff",) or (
            action.name.lower() == "login" and action.get("Secret") != self.secret
        ):
            await writer.drain()
            writer.close()

    def _default(self, action: ReceivedAction) -> Reply:
        name = action.name.lower()
        if name == "login":
            if action.get("Secret") != self.secret:
                return [simple_response(action, "Error", Message="Authentication failed")]
            return [
                with_action_id(self._login_ok, action.action_id),
                *self._login_events,
                *self.after_login,
            ]
        if name == "ping":
            return [simple_response(action, Ping="Pong", Timestamp="1795813125.000000")]
        if name == "logoff":
            return [simple_response(action, "Goodbye", Message="Thanks for all the fish.")]
        return [simple_response(action, "Error", Message="Invalid/unknown command")]


def _parse_action(raw: bytes, connection: int) -> ReceivedAction:
    headers = []
    for line in raw.decode("utf-8").split("\r\n"):
        if line:
            key, value = line.split(": ", 1)
            headers.append((key, value))
    values = {key.lower(): value for key, value in reversed(headers)}
    return ReceivedAction(values["action"], values.get("actionid", ""), headers, connection)

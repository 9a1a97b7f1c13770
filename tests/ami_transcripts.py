"""Load the AMI transcripts recorded from the project's sandbox Asterisk (tests/ami_captures/,
written by `python -m tests.record_ami`) so state machines can be replayed without a PBX."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Generic, TypeVar

from telephony.ami.testing import Recording, ReplayAmiServer, simple_response
from telephony.monitor import RESYNC_ACTIONS

CAPTURES_DIR = Path(__file__).resolve().parent / "ami_captures"
SENT_SUBDIR = "sent"
LOGIN_CAPTURE = "01-login-corestatus-queuestatus.txt"
HEADER_SEPARATOR = ": "
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def transcripts_dir() -> Path:
    """Where the recorded AMI transcripts live: inside the repository, nowhere else."""
    return CAPTURES_DIR


def parse_transcript(text: str) -> list[dict[str, str]]:
    """Split AMI traffic into messages: blank lines separate them, the first ': ' splits a header.

    A line with no ': ' but a trailing ':' is a header with an empty value (Asterisk sends
    "Key: " and some captures lose the trailing space); anything else is kept out.
    """
    messages: list[dict[str, str]] = []
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    for block in _BLANK_LINE.split(normalised):
        message: dict[str, str] = {}
        for line in block.split("\n"):
            if HEADER_SEPARATOR in line:
                key, value = line.split(HEADER_SEPARATOR, 1)
                message[key] = value
            elif line.endswith(":"):
                message[line[:-1]] = ""
        if message:
            messages.append(message)
    return messages


def transcript_files() -> list[Path]:
    """Every capture, sorted; fails loudly (never skips) if the folder is missing."""
    files = sorted(transcripts_dir().glob("*.txt"))
    if not files:
        raise FileNotFoundError(
            f"no AMI transcripts in {transcripts_dir()} (record them: python -m tests.record_ami)"
        )
    return files


def recording(name: str | Path) -> Recording:
    """One capture for the shipped replay client (telephony/ami/testing.py), by file name,
    number prefix ("08") or path."""
    return Recording.load(name if isinstance(name, Path) else transcript_path(name))


def wire_transcript(name: str | Path) -> bytes:
    """A capture as AMI puts it on the wire (CRLF line ends)."""
    return recording(name).raw


def replay_server(*recordings: str) -> ReplayAmiServer:
    """A replay server whose Login answers as capture 01 did, other actions answered from
    ``recordings`` (not started)."""
    return ReplayAmiServer(recording(LOGIN_CAPTURE), [recording(name) for name in recordings])


async def empty_pbx_server() -> ReplayAmiServer:
    """A started replay server standing for an Asterisk with nothing on it: every list of the
    resync answers "No items found", and the core settings name an Asterisk version."""
    replay = await replay_server().start()
    for action in RESYNC_ACTIONS:
        replay.handlers[action.lower()] = lambda a: [simple_response(a, "Error", Message="No items found")]
    for action in ("coresettings", "corestatus"):
        replay.handlers[action] = lambda a: [simple_response(a, AsteriskVersion="22.5.0")]
    return replay


def transcript_path(name: str, folder: Path | None = None) -> Path:
    """One transcript's file, by file name or by its number prefix ("08")."""
    folder = folder or transcripts_dir()
    path = folder / name
    if not path.is_file():
        matches = sorted(folder.glob(f"{name}*.txt"))
        if len(matches) != 1:
            raise FileNotFoundError(f"no single transcript matching {name!r} in {folder}")
        path = matches[0]
    return path


def load_transcript(name: str) -> list[dict[str, str]]:
    """Messages of one transcript, by file name or by its number prefix ("08")."""
    return parse_transcript(transcript_path(name).read_bytes().decode("utf-8"))


def sent_actions(name: str) -> list[dict[str, str]]:
    """The actions the recorder sent during one transcript (Secret blanked), in order."""
    path = transcript_path(name)
    return parse_transcript((path.parent / SENT_SUBDIR / path.name).read_text(encoding="utf-8"))


def action_id_of(name: str, action: str, nth: int = 0) -> str:
    """The ActionID the recorder gave its `nth` (0-based) `action` in transcript `name`:
    tests select "the answer to QueueAdd" this way rather than by a hard-coded id."""
    matching = [sent for sent in sent_actions(name) if sent.get("Action", "").lower() == action.lower()]
    if len(matching) <= nth:
        raise LookupError(f"{name}: no {action} number {nth} among the sent actions")
    return matching[nth]["ActionID"]


def events_only(messages: Iterable[Mapping[str, str]]) -> list[Mapping[str, str]]:
    """Drop action responses: the state machines only ever see events."""
    return [message for message in messages if "Event" in message]


def find_event(messages: list[dict[str, str]], event: str, start: int = 0, **headers: str) -> int:
    """Index of the first message at or after `start` that is `event` with all given headers."""
    for index in range(start, len(messages)):
        message = messages[index]
        if message.get("Event") != event:
            continue
        if all(message.get(key) == value for key, value in headers.items()):
            return index
    raise LookupError(f"{event} {headers} not found after message {start}")


T = TypeVar("T")


class Replay(Generic[T]):
    """Feeds a transcript to a state machine one simulated second per message.

    `through(...)` applies messages up to and including the next one matching, and returns
    what the machine reported on the way; `advance` lets simulated time pass between messages.
    """

    def __init__(
        self,
        messages: list[dict[str, str]],
        apply: Callable[[Mapping[str, str], datetime], list[T] | T | None],
        start: datetime,
        step: timedelta = timedelta(seconds=1),
    ) -> None:
        self.messages = messages
        self._apply = apply
        self.now = start
        self._step = step
        self.position = 0

    def _feed(self, index: int) -> list[T]:
        results: list[T] = []
        while self.position <= index:
            self.now += self._step
            result = self._apply(self.messages[self.position], self.now)
            self.position += 1
            if isinstance(result, list):
                results.extend(result)
            elif result is not None:
                results.append(result)
        return results

    def through(self, event: str, **headers: str) -> list[T]:
        """Apply messages up to and including the next `event` with these headers."""
        return self._feed(find_event(self.messages, event, self.position, **headers))

    def through_index(self, index: int) -> list[T]:
        """Apply messages up to and including message `index`."""
        return self._feed(index)

    def rest(self) -> list[T]:
        """Apply every message left."""
        return self._feed(len(self.messages) - 1)

    def advance(self, seconds: float) -> datetime:
        """Let simulated time pass; returns the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now


def channel_named(messages: Iterable[Mapping[str, str]], prefix: str) -> str:
    """The first channel in a transcript whose name starts with `prefix` ("PJSIP/1001-"):
    channel numbers change with every recording, so tests look them up by what they are."""
    for message in messages:
        channel = message.get("Channel", "")
        if channel.startswith(prefix):
            return channel
    raise LookupError(f"no channel named {prefix}… in the transcript")


def header_of(messages: list[dict[str, str]], key: str, event: str, **headers: str) -> str:
    """Header `key` of the first `event` with these headers (a Linkedid, a LastPause…)."""
    return messages[find_event(messages, event, **headers)][key]

"""Load the real AMI captures (Asterisk 22.10.1) so state machines can be replayed without a PBX."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Generic, TypeVar

SHARED_DIR_ENV = "HOTLINE_SHARED_DIR"
TRANSCRIPTS_SUBDIR = "ami-transcripts"
HEADER_SEPARATOR = ": "
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def shared_dir() -> Path:
    """The shared folder beside the checkout (…/shared), or $HOTLINE_SHARED_DIR when set."""
    override = os.environ.get(SHARED_DIR_ENV)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[1].parent / "shared"


def transcripts_dir() -> Path:
    """Where the captured AMI transcripts live."""
    return shared_dir() / TRANSCRIPTS_SUBDIR


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


def load_transcript(name: str) -> list[dict[str, str]]:
    """Messages of one transcript, by file name or by its number prefix ("08")."""
    folder = transcripts_dir()
    path = folder / name
    if not path.is_file():
        matches = sorted(folder.glob(f"{name}*.txt"))
        if len(matches) != 1:
            raise FileNotFoundError(f"no single transcript matching {name!r} in {folder}")
        path = matches[0]
    return parse_transcript(path.read_bytes().decode("utf-8"))


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

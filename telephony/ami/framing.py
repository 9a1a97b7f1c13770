"""Incremental AMI framing on bytes.

Frames are cut on the raw byte stream and each frame is decoded only once it is complete:
a multi-byte UTF-8 character (a Chinese caller name) split across two TCP reads is then
never damaged. Bad input never raises: it is logged, counted and skipped, so one broken
frame cannot take the connection (and the picture of the call centre) down with it.

Boundaries: a blank line, i.e. "\\r\\n\\r\\n" as Asterisk sends it; a bare "\\n\\n" (or
mixed "\\r\\n\\n") is tolerated. Header lines are "Key: Value"; a line without a colon is
logged and ignored. Invalid UTF-8 is decoded with U+FFFD replacements and the Message is
flagged ``lossy`` (dropping it could lose a Hangup, which is worse than a garbled name).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from itertools import repeat
from typing import Final

from .message import HEADER_SEPARATOR, Message

log = logging.getLogger(__name__)

DEFAULT_MAX_FRAME_BYTES: Final = 256 * 1024
BANNER_PREFIX: Final = b"Asterisk Call Manager/"
EXCERPT_BYTES: Final = 80
"""How much of an offending frame or line goes into a log record."""

_BOUNDARY: Final = re.compile(rb"\n\r?\n")
_BOUNDARY_TAIL: Final = 2
"""Bytes kept from an unfinished buffer so a boundary split across reads is still found
(the longest boundary, b"\\n\\r\\n", is 3 bytes long)."""
_TERMINATOR_BYTES: Final = 4
"""A frame of exactly the limit may sit in the buffer with up to "\\r\\n\\r" behind it."""
_CR: Final = 0x0D
_LOOSE_SEP: Final = ":"


@dataclass(slots=True)
class FramerStats:
    """What the framer produced and what it had to throw away, for health pages and tests."""

    messages: int = 0
    oversized_frames: int = 0
    lossy_frames: int = 0
    bad_lines: int = 0
    empty_frames: int = 0


class AmiFramer:
    """Turns a stream of AMI bytes into Messages: ``feed(bytes) -> list[Message]``.

    One framer per TCP connection (it remembers the banner and any partial frame).
    Memory stays bounded by ``max_frame_bytes`` plus one read: a frame that grows past the
    limit is discarded up to the next boundary without being buffered.
    """

    def __init__(self, max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES) -> None:
        if max_frame_bytes <= 0:
            raise ValueError("max_frame_bytes must be positive")
        self.max_frame_bytes = max_frame_bytes
        self.stats = FramerStats()
        self.banner: str | None = None
        """The "Asterisk Call Manager/x.y.z" version, once seen."""
        self._buf = bytearray()
        self._scan = 0
        self._expect_banner = True
        self._discarding = False

    @property
    def buffered(self) -> int:
        """Bytes held for an unfinished frame (bounded; exposed for tests and metrics)."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Message]:
        """Add bytes from one read; return the Messages completed by them, in order."""
        buf = self._buf
        buf += data
        if self._expect_banner and not self._take_banner():
            return []
        out: list[Message] = []
        start = 0
        limit = self.max_frame_bytes
        for match in _BOUNDARY.finditer(buf, self._scan):
            end = match.start()
            if end > start and buf[end - 1] == _CR:
                end -= 1
            if self._discarding:
                self._discarding = False
            elif end - start > limit:
                self._drop_oversized(buf, start, end - start)
            elif end == start:
                self.stats.empty_frames += 1
            else:
                message = parse_frame(buf[start:end], self.stats)
                if message is not None:
                    out.append(message)
            start = match.end()
        if start:
            del buf[:start]
        if self._discarding or len(buf) > limit + _TERMINATOR_BYTES:
            if not self._discarding:
                self._drop_oversized(buf, 0, len(buf), unfinished=True)
                self._discarding = True
            del buf[:-_BOUNDARY_TAIL]
        self._scan = max(0, len(buf) - _BOUNDARY_TAIL)
        self.stats.messages += len(out)
        return out

    def _take_banner(self) -> bool:
        """Strip the greeting line Asterisk sends first; False while it is still incomplete."""
        buf = self._buf
        if len(buf) < len(BANNER_PREFIX) and BANNER_PREFIX.startswith(buf):
            return False
        if not buf.startswith(BANNER_PREFIX):
            self._expect_banner = False
            return True
        newline = buf.find(b"\n")
        if newline < 0:
            if len(buf) > self.max_frame_bytes:
                log.warning("AMI banner line longer than %d bytes; ignoring it", len(buf))
                self._expect_banner = False
                self._discarding = True
                return True
            return False
        line = bytes(buf[:newline]).rstrip(b"\r")
        self.banner = line[len(BANNER_PREFIX) :].decode("utf-8", "replace").strip()
        del buf[: newline + 1]
        self._expect_banner = False
        return True

    def _drop_oversized(self, buf: bytearray, start: int, size: int, *, unfinished: bool = False) -> None:
        self.stats.oversized_frames += 1
        log.warning(
            "AMI frame of %s%d bytes exceeds the %d-byte limit; discarded up to the next "
            "boundary (starts %r)",
            "more than " if unfinished else "",
            size,
            self.max_frame_bytes,
            bytes(buf[start : start + EXCERPT_BYTES]),
        )


def parse_frame(frame: bytes | bytearray, stats: FramerStats | None = None) -> Message | None:
    """Parse one complete frame (no trailing blank line) into a Message.

    Returns None for a frame with no header at all. Hot path: one decode, one split, one
    partition per line; the rare cases (bare LF, missing space, bad bytes) take side exits.
    """
    try:
        text = frame.decode("utf-8")
        lossy = False
    except UnicodeDecodeError as exc:
        text = frame.decode("utf-8", "replace")
        lossy = True
        if stats is not None:
            stats.lossy_frames += 1
        log.warning(
            "AMI frame is not valid UTF-8 (%s); kept with replacement characters: %r",
            exc.reason,
            bytes(frame[:EXCERPT_BYTES]),
        )
    if frame.count(b"\n") != frame.count(b"\r\n"):
        lines = text.replace("\r\n", "\n").split("\n")
    else:
        lines = text.split("\r\n")
    parts = list(map(str.partition, lines, repeat(HEADER_SEPARATOR)))
    index: dict[str, str] = {}
    clean = True
    for key, sep, value in reversed(parts):  # reversed: the first of repeated keys wins
        if sep:
            index[key.lower()] = value
        else:
            clean = False
    if not clean:
        parts = _repair(parts, index, stats)
    if not parts:
        return None
    return Message._trusted(parts, index, lossy)


def _repair(
    parts: list[tuple[str, str, str]], index: dict[str, str], stats: FramerStats | None
) -> list[tuple[str, str, str]]:
    """Slow path for lines without ": ": accept "Key:value", skip blank lines, log the rest."""
    kept: list[tuple[str, str, str]] = []
    for key, sep, value in parts:
        if sep:
            kept.append((key, sep, value))
            continue
        loose_key, loose_sep, loose_value = key.partition(_LOOSE_SEP)
        if loose_sep:
            kept.append((loose_key, HEADER_SEPARATOR, loose_value))
        elif key:
            _bad_line(key, stats)
    index.clear()
    for key, _, value in reversed(kept):
        index[key.lower()] = value
    return kept


def _bad_line(line: str, stats: FramerStats | None) -> None:
    if stats is not None:
        stats.bad_lines += 1
    log.warning("AMI line without ':' ignored: %r", line[:EXCERPT_BYTES])

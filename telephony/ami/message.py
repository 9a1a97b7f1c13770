"""AMI messages as values: what Asterisk sent (Message) and what we send (Action).

A Message keeps every header in the order Asterisk wrote it, because some headers repeat
(ChanVariable, Output, RuleList) and listeners must be able to see all of them; lookups are
case-insensitive because Asterisk itself is not consistent about header casing across modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Final

EOL: Final = "\r\n"
HEADER_SEPARATOR: Final = ": "
KIND_EVENT: Final = "event"
KIND_RESPONSE: Final = "response"
KIND_OTHER: Final = "other"

_EVENT_KEY: Final = "event"
_RESPONSE_KEY: Final = "response"
_ACTION_ID_KEY: Final = "actionid"
_FORBIDDEN_IN_VALUE: Final = ("\r", "\n", "\0")
_FORBIDDEN_IN_KEY: Final = (*_FORBIDDEN_IN_VALUE, ":", " ", "\t")

HeaderScalar = str | int | float | bool
HeaderValue = HeaderScalar | Iterable[HeaderScalar]


class Message(Mapping[str, str]):
    """One immutable AMI event or response.

    ``m[key]`` is the first value of a (case-insensitive) key, ``m.getall(key)`` all of them;
    iteration yields each distinct key once, spelled as Asterisk first sent it.
    ``lossy`` is True when the raw bytes were not valid UTF-8 and were decoded with U+FFFD
    replacement characters: we keep such a message (a Hangup with a garbled caller name still
    matters to the call state) and let consumers decide.
    """

    __slots__ = ("_index", "_parts", "lossy")

    _parts: list[tuple[str, str, str]]
    """(key, separator, value) triples as str.partition made them: the framer's hot path
    stores them as they come instead of rebuilding pairs; never mutated after creation."""
    _index: dict[str, str]
    lossy: bool

    def __init__(
        self,
        headers: Iterable[tuple[str, str]] | Mapping[str, str],
        *,
        lossy: bool = False,
    ) -> None:
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        parts: list[tuple[str, str, str]] = []
        index: dict[str, str] = {}
        for key, value in pairs:
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(f"AMI headers must be str pairs, got {key!r}: {value!r}")
            parts.append((key, HEADER_SEPARATOR, value))
            index.setdefault(key.lower(), value)
        self._parts = parts
        self._index = index
        self.lossy = lossy

    @classmethod
    def _trusted(cls, parts: list[tuple[str, str, str]], index: dict[str, str], lossy: bool) -> Message:
        """Build without re-validating: the framer's hot path already produced both views."""
        message = cls.__new__(cls)
        message._parts = parts
        message._index = index
        message.lossy = lossy
        return message

    # Mapping protocol -------------------------------------------------------------------
    def __getitem__(self, key: str) -> str:
        return self._index[key.lower()]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._index

    def __len__(self) -> int:
        return len(self._index)

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for key, _, _ in self._parts:
            folded = key.lower()
            if folded not in seen:
                seen.add(folded)
                yield key

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        """Mapping.get without the KeyError round trip (hot path for listeners)."""
        return self._index.get(key.lower(), default)

    def getall(self, key: str) -> list[str]:
        """Every value of a repeated header, in the order sent (e.g. ChanVariable)."""
        folded = key.lower()
        return [value for name, _, value in self._parts if name.lower() == folded]

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """All (key, value) pairs exactly as received, repeats included."""
        return tuple((key, value) for key, _, value in self._parts)

    # AMI semantics ----------------------------------------------------------------------
    @property
    def kind(self) -> str:
        """ "event", "response" or "other" (a frame with neither header)."""
        if _EVENT_KEY in self._index:
            return KIND_EVENT
        if _RESPONSE_KEY in self._index:
            return KIND_RESPONSE
        return KIND_OTHER

    @property
    def name(self) -> str | None:
        """The Event name, or the Response status (Success, Error, Goodbye...)."""
        index = self._index
        name = index.get(_EVENT_KEY)
        return name if name is not None else index.get(_RESPONSE_KEY)

    @property
    def action_id(self) -> str | None:
        """The ActionID that ties a response or list event to the action that caused it."""
        return self._index.get(_ACTION_ID_KEY)

    # Value semantics --------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Message):
            return self.headers == other.headers
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.headers)

    def __repr__(self) -> str:
        flag = " lossy" if self.lossy else ""
        body = ", ".join(f"{key}={value!r}" for key, _, value in self._parts)
        return f"<Message{flag} {body}>"


def _check_key(key: str) -> str:
    if not key or any(bad in key for bad in _FORBIDDEN_IN_KEY):
        raise ValueError(f"invalid AMI header name {key!r}: empty or contains ':', space or CR/LF")
    return key


def _check_value(key: str, value: HeaderScalar) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise TypeError(f"AMI header {key!r}: unsupported value type {type(value).__name__}")
    if any(bad in text for bad in _FORBIDDEN_IN_VALUE):
        raise ValueError(
            f"AMI header {key!r} value contains CR, LF or NUL; refusing to send it because it "
            f"would inject extra headers or actions: {text!r}"
        )
    return text


class Action:
    """An AMI action to send: a name plus headers, where a header may repeat (Variable).

    Values are checked when added, so a CR/LF injection attempt (for instance a caller name
    copied into a Variable) fails at the call site with a ValueError, not on the wire.
    """

    __slots__ = ("_headers", "name")

    def __init__(self, name: str, /, **headers: HeaderValue) -> None:
        self.name = _check_value("Action", _check_key(name))
        self._headers: list[tuple[str, str]] = []
        for key, value in headers.items():
            self.add(key, value)

    def add(self, key: str, value: HeaderValue) -> Action:
        """Append a header (or one header per item of an iterable); returns self to chain."""
        _check_key(key)
        if key.lower() in ("action", "actionid"):
            raise ValueError(f"{key!r} is set by the client, not by callers")
        if isinstance(value, str | int | float | bool):
            self._headers.append((key, _check_value(key, value)))
        else:
            for item in value:
                self._headers.append((key, _check_value(key, item)))
        return self

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """The caller's headers, repeats included, without Action and ActionID."""
        return tuple(self._headers)

    def to_bytes(self, action_id: str | None = None) -> bytes:
        """Serialise as Asterisk expects: CRLF lines, a blank line at the end, UTF-8."""
        lines = [f"Action: {self.name}"]
        if action_id is not None:
            lines.append(f"ActionID: {_check_value('ActionID', action_id)}")
        lines.extend(f"{key}: {value}" for key, value in self._headers)
        return (EOL.join(lines) + EOL + EOL).encode("utf-8")

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{key}=***" if key.lower() == "secret" else f"{key}={value!r}" for key, value in self._headers
        )
        return f"<Action {self.name} {shown}>"

"""Formatting Asterisk's INI dialect safely: every value goes through one escaping rule."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ivr.output import conf_header

Option = tuple[str, str | int]


class UnsafeValueError(ValueError):
    """A value that would change the meaning of an Asterisk config file."""


def escape(value: str | int) -> str:
    """Escape `;` (comment start) and refuse line breaks, which would inject new lines."""
    text = str(value)
    if any(ch in text for ch in "\r\n\0"):
        raise UnsafeValueError(f"line break in Asterisk config value {text!r}")
    if text != text.strip():
        raise UnsafeValueError(f"Asterisk trims surrounding spaces from {text!r}")
    return text.replace(";", r"\;")


def section(name: str, options: Sequence[Option], *, comment: str = "",
            template: str = "", is_template: bool = False) -> str:
    """One `[name]` block; `template` inherits from `[template](!)` blocks."""
    if not name or any(ch in name for ch in "[]();\r\n"):
        raise UnsafeValueError(f"unusable section name {name!r}")
    marks = "!" if is_template else template
    head = f"[{name}]" + (f"({marks})" if marks else "")
    lines = [f"; {line}".rstrip() for line in comment.splitlines()] if comment else []
    lines.append(head)
    lines += [f"{key}={escape(value)}" for key, value in options]
    return "\n".join(lines) + "\n"


def document(title: str, blocks: Iterable[str]) -> bytes:
    """A whole file: the generated-file header, a title line, then blank-line separated blocks."""
    parts = [conf_header() + f"; {title}\n", *blocks]
    return "\n".join(parts).encode("utf-8")

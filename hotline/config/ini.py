"""A small INI reader that remembers where every section and key came from.

The standard library's configparser forgets line numbers, and an administrator fixing a
50-seat file needs every error to point at the exact line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hotline.config.errors import ConfigIssue

COMMENT_PREFIXES = (";", "#")


@dataclass
class Entry:
    key: str
    value: str
    file: Path
    line: int


@dataclass
class Section:
    """One `[kind]` or `[kind argument]` block, e.g. `[department 供水集团]`."""

    kind: str
    argument: str
    file: Path
    line: int
    entries: list[Entry] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.kind} {self.argument}".strip()

    def get(self, key: str) -> Entry | None:
        for entry in self.entries:
            if entry.key == key:
                return entry
        return None


def read_text(path: Path, issues: list[ConfigIssue]) -> str | None:
    """Read a UTF-8 file, naming the line of the first byte that is not UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        issues.append(ConfigIssue(path, None, None, None, f"cannot read the file: {exc.strerror}"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        issues.append(
            ConfigIssue(
                path, line, None, None,
                f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); "
                "save it as UTF-8",
            )
        )
        return None
    return text.removeprefix("\ufeff")


def parse_ini(text: str, path: Path, issues: list[ConfigIssue]) -> list[Section]:
    """Parse INI text into sections, reporting (not raising) every malformed line."""
    sections: list[Section] = []
    current: Section | None = None
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith(COMMENT_PREFIXES):
            continue
        if line.startswith("["):
            if not line.endswith("]") or len(line) < 3:
                issues.append(ConfigIssue(path, number, None, None,
                                          f"malformed section header {line!r}; expected [name]"))
                current = None
                continue
            kind, _, argument = line[1:-1].strip().partition(" ")
            current = Section(kind.strip().lower(), argument.strip(), path, number)
            sections.append(current)
            continue
        if "=" not in line:
            issues.append(ConfigIssue(path, number, current.title if current else None, None,
                                      f"expected 'key = value', found {line!r}"))
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if current is None:
            issues.append(ConfigIssue(path, number, None, key,
                                      "key outside any section; put it under a [section]"))
            continue
        if not key:
            issues.append(ConfigIssue(path, number, current.title, None, "empty key before '='"))
            continue
        if current.get(key) is not None:
            first = current.get(key)
            assert first is not None
            issues.append(ConfigIssue(path, number, current.title, key,
                                      f"duplicate key (first set on line {first.line})"))
            continue
        current.entries.append(Entry(key, _strip_inline_comment(value.strip()), path, number))
    return sections


def _strip_inline_comment(value: str) -> str:
    """Drop a trailing ' ; comment' so values can be annotated in place."""
    for marker in (" ;", "\t;", " #", "\t#"):
        index = value.find(marker)
        if index != -1:
            value = value[:index]
    return value.strip()


def write_overrides(path: Path, overrides: Mapping[str, str]) -> None:
    """Put "section.key" values into the file itself (a key missing from its section is added
    at the section's top), so another process reading the file sees them."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for dotted, value in overrides.items():
        section, _, key = dotted.partition(".")
        start = lines.index(f"[{section}]")
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
        for i in range(start + 1, end):
            if re.match(rf"^{re.escape(key)}\s*=", lines[i]):
                lines[i] = f"{key} = {value}"
                break
        else:
            lines.insert(start + 1, f"{key} = {value}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

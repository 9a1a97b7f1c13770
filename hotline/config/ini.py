"""A small INI reader that remembers where every section and key came from.

The standard library's configparser forgets line numbers, and an administrator fixing a
50-seat file needs every error to point at the exact line.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hotline.config.errors import ConfigIssue, quoted

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
        issues.append(ConfigIssue(path, None, None, None, f"无法读取文件：{_unreadable(exc)}"))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        issues.append(
            ConfigIssue(
                path, line, None, None,
                f"文件不是 UTF-8 编码（偏移 {exc.start} 处的字节 0x{raw[exc.start]:02x}）；"
                "请另存为 UTF-8",
            )
        )
        return None
    return text.removeprefix("\ufeff")


UNREADABLE = {errno.ENOENT: "文件不存在", errno.EACCES: "没有读取权限", errno.EPERM: "没有读取权限",
              errno.EISDIR: "这是一个目录，不是文件"}


def _unreadable(exc: OSError) -> str:
    """Why a file could not be read, in Chinese (the system's own text is English)."""
    known = UNREADABLE.get(exc.errno or 0)
    return known or f"系统错误 {errno.errorcode.get(exc.errno or 0, exc.errno)}"


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
                                          f"段标题{quoted(line)}格式不对，应为 [名称]"))
                current = None
                continue
            kind, _, argument = line[1:-1].strip().partition(" ")
            current = Section(kind.strip().lower(), argument.strip(), path, number)
            sections.append(current)
            continue
        if "=" not in line:
            issues.append(ConfigIssue(path, number, current.title if current else None, None,
                                      f"应为“键 = 值”的形式，实际为{quoted(line)}"))
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if current is None:
            issues.append(ConfigIssue(path, number, None, key,
                                      "该键不在任何段内：请把它放到某个 [段] 之下"))
            continue
        if not key:
            issues.append(ConfigIssue(path, number, current.title, None, "“=”前面缺少键名"))
            continue
        if current.get(key) is not None:
            first = current.get(key)
            assert first is not None
            issues.append(ConfigIssue(path, number, current.title, key,
                                      f"重复的键（第一次设置在第 {first.line} 行）"))
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

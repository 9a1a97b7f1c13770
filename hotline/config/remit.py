"""The remit table (三定方案): which department and section handles what, read from its own file.

The file is named by `[remit] file` in hotline.conf and written in the same INI dialect, so every
error names its file and line (`hotline check` prints them). Nothing about departments lives in
code: an administrator replaces the file and the suggestion follows. Blocks:

    [department 城市管理局]          about, keywords (split on , ， 、), example1 = …, example2 = …
    [section 民政局/区划地名科]       the same keys, for one section of a department defined above
    [overlap 露天烧烤]               words, winner (department or department/section), over, note
    [general]                       ignore1 = …, ignore2 = …: common words that say nothing of a remit

An overlap says which side wins when a message names one of its words: the winner goes ahead of
every department listed in `over`, with the note as the reason.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from hotline.config.errors import ConfigError, ConfigIssue, quoted
from hotline.config.ini import Section, parse_ini, read_text

LIST_SPLIT = re.compile(r"[,，、]")
EXAMPLE_KEY = re.compile(r"^example\d*$")
IGNORE_KEY = re.compile(r"^ignore\d*$")
UNIT_KEYS = ("about", "keywords")
OVERLAP_KEYS = ("words", "winner", "over", "note")


@dataclass(frozen=True)
class RemitSection:
    """One section (科室) of a department, with what it handles."""

    name: str
    about: str
    keywords: tuple[str, ...]
    examples: tuple[str, ...]


@dataclass(frozen=True)
class RemitDepartment:
    name: str
    about: str
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    sections: tuple[RemitSection, ...] = ()


@dataclass(frozen=True)
class Overlap:
    """A known overlap of remits: a message naming one of `words` goes to `winner` before `over`."""

    name: str
    words: tuple[str, ...]
    winner: str
    section: str
    over: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class RemitTable:
    departments: tuple[RemitDepartment, ...]
    overlaps: tuple[Overlap, ...] = ()
    path: Path | None = None
    ignore: tuple[str, ...] = ()

    def department(self, name: str) -> RemitDepartment | None:
        return next((d for d in self.departments if d.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.departments)

    @staticmethod
    def from_keywords(pairs: tuple[tuple[str, tuple[str, ...]], ...]) -> RemitTable:
        """A table of bare keyword lists (hotline.conf's [department] blocks when no file is named)."""
        return RemitTable(tuple(RemitDepartment(name, "", tuple(keywords), ()) for name, keywords in pairs))


def split_list(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item.strip() for item in LIST_SPLIT.split(value) if item.strip()))


def load_remit(path: Path) -> RemitTable:
    """Read and validate the remit file; raise ConfigError listing every issue with its line."""
    issues: list[ConfigIssue] = []
    text = read_text(path, issues)
    if text is None:
        raise ConfigError(issues)
    sections = parse_ini(text, path, issues)
    table = _build(sections, path, issues)
    if issues:
        raise ConfigError(issues)
    return table


def _fail(issues: list[ConfigIssue], section: Section, key: str | None, message: str,
          line: int | None = None) -> None:
    issues.append(ConfigIssue(section.file, line or section.line, section.title, key, message))


def _unit(section: Section, issues: list[ConfigIssue]) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """about, keywords and examples of a department or section block; unknown keys are errors."""
    examples = []
    for entry in section.entries:
        if EXAMPLE_KEY.match(entry.key):
            if entry.value:
                examples.append(entry.value)
        elif entry.key not in UNIT_KEYS:
            _fail(issues, section, entry.key,
                  f"未知的键，应为 {'、'.join(UNIT_KEYS)} 或 example1、example2 …", entry.line)
    about = section.get("about")
    keywords = section.get("keywords")
    words = split_list(keywords.value) if keywords else ()
    if not words and not examples:
        _fail(issues, section, "keywords", "既没有关键词也没有例句：匹配不到任何诉求")
    return (about.value if about else ""), words, tuple(examples)


def _build(sections: list[Section], path: Path, issues: list[ConfigIssue]) -> RemitTable:
    departments: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {}
    children: dict[str, list[RemitSection]] = {}
    overlaps: list[Section] = []
    ignore: list[str] = []
    for section in sections:
        if section.kind == "general":
            ignore.extend(_ignore(section, issues))
        elif section.kind == "department":
            if not section.argument or section.argument in departments:
                _fail(issues, section, None, "部门名称重复或为空")
                continue
            departments[section.argument] = _unit(section, issues)
        elif section.kind == "section":
            _child(section, departments, children, issues)
        elif section.kind == "overlap":
            overlaps.append(section)
        else:
            _fail(issues, section, None, "未知的段，应为 [general]、[department 名称]、"
                                         "[section 部门/科室] 或 [overlap 名称]")
    if not departments and not issues:
        issues.append(ConfigIssue(path, None, None, None, "没有任何 [department …] 段"))
    built = tuple(RemitDepartment(name, *unit, tuple(children.get(name, ())))
                  for name, unit in departments.items())
    table = RemitTable(built, (), path)
    return RemitTable(built, tuple(_overlap(s, table, issues) for s in overlaps), path,
                      tuple(dict.fromkeys(ignore)))


def _ignore(section: Section, issues: list[ConfigIssue]) -> list[str]:
    words: list[str] = []
    for entry in section.entries:
        if IGNORE_KEY.match(entry.key):
            words.extend(split_list(entry.value))
        else:
            _fail(issues, section, entry.key, "未知的键，应为 ignore1、ignore2 …", entry.line)
    return words


def _child(section: Section, departments: dict, children: dict[str, list[RemitSection]],
           issues: list[ConfigIssue]) -> None:
    parent, _, name = section.argument.partition("/")
    parent, name = parent.strip(), name.strip()
    if not name:
        _fail(issues, section, None, "应为 [section 部门/科室]，例如 [section 民政局/区划地名科]")
        return
    if parent not in departments:
        _fail(issues, section, None, f"本行之前没有部门{quoted(parent)}{_hint(parent, departments)}")
        return
    if any(s.name == name for s in children.get(parent, ())):
        _fail(issues, section, None, "重复的科室")
        return
    children.setdefault(parent, []).append(RemitSection(name, *_unit(section, issues)))


def _hint(name: str, known) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"；是否想写{quoted(close[0])}？" if close else ""


def _overlap(section: Section, table: RemitTable, issues: list[ConfigIssue]) -> Overlap:
    for entry in section.entries:
        if entry.key not in OVERLAP_KEYS:
            _fail(issues, section, entry.key, f"未知的键，应为 {'、'.join(OVERLAP_KEYS)}", entry.line)
    words = split_list(section.get("words").value) if section.get("words") else ()
    if not words:
        _fail(issues, section, "words", "交叉职责须在 words 中写明触发它的词")
    winner_entry = section.get("winner")
    winner, _, part = (winner_entry.value if winner_entry else "").partition("/")
    winner, part = winner.strip(), part.strip()
    department = table.department(winner)
    line = winner_entry.line if winner_entry else None
    if department is None:
        _fail(issues, section, "winner", f"没有部门{quoted(winner)}{_hint(winner, table.names)}", line)
    elif part and not any(s.name == part for s in department.sections):
        _fail(issues, section, "winner", f"{winner} 没有科室{quoted(part)}", line)
    over_entry = section.get("over")
    over = split_list(over_entry.value) if over_entry else ()
    for name in over:
        if table.department(name) is None or name == winner:
            _fail(issues, section, "over", f"{quoted(name)}不是另一个部门{_hint(name, table.names)}",
                  over_entry.line if over_entry else None)
    note = section.get("note")
    return Overlap(section.argument, words, winner, part, over, note.value if note else "")

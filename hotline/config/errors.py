"""Configuration errors that name the file and line, and say what is expected."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ConfigIssue:
    file: Path | None
    line: int | None
    section: str | None
    key: str | None
    message: str

    def __str__(self) -> str:
        where = str(self.file) if self.file else "<config>"
        if self.line is not None:
            where += f":{self.line}"
        context = ""
        if self.section:
            context += f"[{self.section}]"
        if self.key:
            context += f" {self.key}" if context else self.key
        return f"{where}: {context + ': ' if context else ''}{self.message}"


class ConfigError(Exception):
    """Raised with every issue found, so the administrator fixes them in one pass."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))

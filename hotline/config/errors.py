"""Configuration errors that name the file and line, and say in Chinese what is expected.

An administrator reads them from `hotline check` and `hotline serve`, so each is one Chinese
line: `/etc/hotline/hotline.conf 第 12 行：[seats] 07：分机号“1x07”格式不对，应为 3 到 6 位数字`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

NO_FILE = "配置"
"""Where an issue is when no line of any file holds it (a missing section or secret)."""
OVERRIDE_FILE = Path("<命令行覆盖值>")
"""The origin of a value the sandbox or a test set without editing a file."""


def quoted(value: object) -> str:
    """A value the administrator wrote, in Chinese quotes, control characters made visible."""
    return f"“{repr(str(value))[1:-1]}”"


@dataclass(frozen=True)
class ConfigIssue:
    file: Path | None
    line: int | None
    section: str | None
    key: str | None
    message: str

    def __str__(self) -> str:
        where = str(self.file) if self.file else NO_FILE
        if self.line:  # 0: a default or an override, which no line holds
            where += f" 第 {self.line} 行"
        context = f"[{self.section}]" if self.section else ""
        if self.key:
            context += f" {self.key}" if context else self.key
        return f"{where}：{context + '：' if context else ''}{self.message}"


class ConfigError(Exception):
    """Raised with every issue found, so the administrator fixes them in one pass."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))

"""argparse with its own frame in Chinese: the usage line, section titles, -h, and its refusals.

The commands' explanations are written in Chinese where they are declared; what argparse adds
by itself (English, from the standard library) is put in Chinese here, so `hotline … --help` and
a mistyped command read wholly Chinese. A refusal argparse words in a way not listed below keeps
its own text rather than being guessed at.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

REFUSALS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern), text) for pattern, text in (
    (r"^the following arguments are required: (.+)$", r"缺少必需的参数：\1"),
    (r"^argument (.+?): invalid choice: (.+?) \(choose from (.+)\)$", r"参数 \1：无效的选项 \2（可选：\3）"),
    (r"^argument (.+?): invalid (\w+) value: (.+)$", r"参数 \1：无效的 \2 值 \3"),
    (r"^argument (.+?): expected one argument$", r"参数 \1：需要一个值"),
    (r"^argument (.+?): not allowed with argument (.+)$", r"参数 \1：不能与参数 \2 同时使用"),
    (r"^one of the arguments (.+) is required$", r"参数 \1 必须给出其中之一"),
    (r"^unrecognized arguments: (.+)$", r"无法识别的参数：\1"),
))


TYPE_ZH = {"int": "整数", "float": "数字"}


def refusal_zh(message: str) -> str:
    """argparse's refusal in Chinese, or as it is when its wording is not a known one."""
    for pattern, text in REFUSALS:
        if pattern.match(message):
            said = pattern.sub(text, message)
            return re.sub(r"无效的 (\w+) 值", lambda m: f"无效的{TYPE_ZH.get(m[1], m[1])}值", said)
    return message


class ChineseHelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, prefix if prefix is not None else "用法：")


class ChineseArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose frame is Chinese; its subcommands' parsers are of this class too."""

    def __init__(self, *args: Any, add_help: bool = True,
                 parents: Sequence[argparse.ArgumentParser] = (), **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", ChineseHelpFormatter)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "位置参数"
        self._optionals.title = "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help="显示此帮助并退出")
        for parent in parents:  # as argparse does, but after the titles: one 选项 section
            self._add_container_actions(parent)
            self._defaults.update(getattr(parent, "_defaults", {}))

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：错误：{refusal_zh(message)}\n")

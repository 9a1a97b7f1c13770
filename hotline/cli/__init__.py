"""The `hotline` command: each group of subcommands lives in its own module.

A module registers itself by exposing `register(subparsers)`; each subcommand sets
`handler(args) -> int` as its default. Exit status 2 means "refused: fix the input".
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from hotline.cli.parser import ChineseArgumentParser

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_REFUSED = 2

COMMAND_MODULES = (
    "hotline.cli.config_cmds",
    "hotline.cli.pbx_cmds",
    "hotline.cli.sandbox_cmds",
    "hotline.cli.token_cmds",
    "hotline.cli.serve_cmd",
    "hotline.cli.voicemail_cmds",
    "hotline.cli.model_cmds",
    "hotline.cli.qa_cmds",
)


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(prog="hotline", description="12345 热线：交换机桥接、留言分拣与质检工具")
    parser.add_argument("-c", "--config", default="hotline.conf",
                        help="hotline.conf 的路径（默认：./hotline.conf）")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="命令")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return EXIT_REFUSED
    return int(handler(args) or EXIT_OK)


if __name__ == "__main__":
    sys.exit(main())

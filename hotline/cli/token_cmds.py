"""`hotline token add|list|revoke`: API tokens, managed on the server's own console.

The database is migrated first, so the first admin token can be made on a fresh install
before `hotline serve` ever ran. A new token is printed once, alone on stdout (so a script can
capture it); everything else goes to stderr. Changes are audited as done by `cli:<os user>`.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy.orm import Session

from hotline.auth import ROLE_NAMES, TokenError, add_token, list_tokens, parse_role, revoke_token
from hotline.cli import EXIT_OK, EXIT_REFUSED
from hotline.cli.common import load_or_report
from hotline.config import HotlineConfig
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database

NEVER = "-"
LIST_COLUMNS = ("编号", "名称", "角色", "坐席", "创建时间", "最近使用", "吊销时间")
TEAM_LEAD = "班长"


def register(subparsers: argparse._SubParsersAction) -> None:
    token = subparsers.add_parser("token", help="管理 API 令牌（admin、operator、monitor、inspector）")
    token_sub = token.add_subparsers(dest="token_command", required=True)

    add = token_sub.add_parser("add", help="创建令牌并只打印这一次")
    add.add_argument("--role", required=True, help=f"以下之一：{'、'.join(ROLE_NAMES)}")
    add.add_argument("--name", required=True,
                     help="持有者，例如 wallboard-hall 或 zhang.wei")
    binding = add.add_mutually_exclusive_group()
    binding.add_argument("--seat", help="话务员令牌：它代表的那一个坐席（工号），例如 07"
                                        "（默认：名称本身是工号时即为该工号）")
    binding.add_argument("--team-lead", action="store_true",
                         help="话务员令牌：设为班长，可代表所有坐席")
    add.set_defaults(handler=_add)

    listing = token_sub.add_parser("list", help="列出令牌（从不显示令牌本身）")
    listing.add_argument("--active", action="store_true", help="不显示已吊销的令牌")
    listing.set_defaults(handler=_list)

    revoke = token_sub.add_parser("revoke", help="吊销令牌；运行中的服务 2 秒内即拒绝它")
    revoke.add_argument("name", nargs="?", help="有效令牌的名称")
    revoke.add_argument("--id", type=int, dest="token_id", help="按编号而不是名称吊销")
    revoke.set_defaults(handler=_revoke)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name (containers): still say where it came from
        return "cli"


@contextmanager
def _unit_of_work(config: HotlineConfig) -> Iterator[Session]:
    """Migrate, then one committed transaction; the engine is closed afterwards."""
    upgrade_database(config)
    engine = make_engine(config.database.url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            yield session
    finally:
        engine.dispose()


def _refuse(message: str) -> int:
    print(f"hotline：{message}", file=sys.stderr)
    return EXIT_REFUSED


def _add(args: argparse.Namespace) -> int:
    try:
        parse_role(args.role)
    except ValueError as exc:
        return _refuse(str(exc))
    config = load_or_report(args)
    if config is None:
        return EXIT_REFUSED
    if args.seat is not None and config.seat(args.seat.strip()) is None:
        return _refuse(f"配置的 [seats] 中没有坐席“{args.seat.strip()}”")
    try:
        with _unit_of_work(config) as session:
            plaintext = add_token(session, args.name, args.role, seat=args.seat,
                                  team_lead=args.team_lead, actor=_actor())
    except TokenError as exc:
        return _refuse(str(exc))
    print(f"已创建 {args.role.strip().lower()} 令牌“{args.name.strip()}”；令牌只显示这一次，"
          "请立即妥善保存：", file=sys.stderr)
    print(plaintext)
    return EXIT_OK


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else NEVER


def _list(args: argparse.Namespace) -> int:
    config = load_or_report(args)
    if config is None:
        return EXIT_REFUSED
    with _unit_of_work(config) as session:
        tokens = list_tokens(session, include_revoked=not args.active)
    rows = [LIST_COLUMNS] + [
        (str(t.id), t.name, t.role.value, TEAM_LEAD if t.team_lead else (t.seat or NEVER),
         _when(t.created_at), _when(t.last_used_at),
         _when(t.revoked_at)) for t in tokens]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(LIST_COLUMNS))]
    for row in rows:
        print("  ".join(cell + " " * (width - _width(cell))
                        for cell, width in zip(row, widths, strict=True)).rstrip())
    if not tokens:
        print("还没有令牌：请用 hotline token add --role admin --name 名称 创建", file=sys.stderr)
    return EXIT_OK


def _width(text: str) -> int:
    """Columns a terminal gives `text`: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _revoke(args: argparse.Namespace) -> int:
    if (args.name is None) == (args.token_id is None):
        return _refuse("请给出令牌名称或 --id 编号（二者选一）")
    config = load_or_report(args)
    if config is None:
        return EXIT_REFUSED
    ref: str | int = args.token_id if args.token_id is not None else args.name
    try:
        with _unit_of_work(config) as session:
            info = revoke_token(session, ref, actor=_actor())
    except TokenError as exc:
        return _refuse(str(exc))
    print(f"已吊销令牌 {info.id}（{info.name}，{info.role.value}）")
    return EXIT_OK

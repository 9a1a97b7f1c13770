"""`hotline check` and `hotline secrets init`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hotline.cli import EXIT_OK, EXIT_REFUSED
from hotline.cli.common import load_or_report
from hotline.config.secrets import write_demo_secrets


def register(subparsers: argparse._SubParsersAction) -> None:
    check = subparsers.add_parser("check", help="检查 hotline.conf，不写任何文件")
    check.set_defaults(handler=_check)
    secrets = subparsers.add_parser("secrets", help="管理密钥文件")
    secrets_sub = secrets.add_subparsers(dest="secrets_command", required=True)
    init = secrets_sub.add_parser("init", help="密钥文件不存在时创建它，为每个坐席和专家"
                                               "生成随机密码")
    init.set_defaults(handler=_secrets_init)


def _check(args: argparse.Namespace) -> int:
    config = load_or_report(args)
    if config is None:
        return EXIT_REFUSED
    print(f"{config.path}：检查通过 — {len(config.seats)} 个坐席、{len(config.departments)} 个部门、"
          f"{len(config.experts)} 位专家；三定方案：{len(config.remit.departments)} 个部门、"
          f"{len(config.remit.overlaps)} 条交叉职责")
    if len(config.pbxes) > 1:
        for pbx in config.pbxes:
            print(f"  交换机 {pbx.name}（{pbx.display_name}）：{len(pbx.seats)} 个坐席，"
                  f"AMI {pbx.ami.host}:{pbx.ami.port}，SIP {pbx.sip.bind}:{pbx.sip.port}")
    return EXIT_OK


def _secrets_init(args: argparse.Namespace) -> int:
    path = write_demo_secrets(Path(args.config))
    if path is None:
        print("密钥文件已存在，未作改动", file=sys.stderr)
        return EXIT_OK
    print(f"已写入 {path}")
    return EXIT_OK

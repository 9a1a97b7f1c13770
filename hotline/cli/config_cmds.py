"""`hotline check` and `hotline secrets init`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hotline.cli import EXIT_OK, EXIT_REFUSED
from hotline.cli.common import load_or_report
from hotline.config.secrets import write_demo_secrets


def register(subparsers: argparse._SubParsersAction) -> None:
    check = subparsers.add_parser("check", help="validate hotline.conf; writes nothing")
    check.set_defaults(handler=_check)
    secrets = subparsers.add_parser("secrets", help="manage the secrets file")
    secrets_sub = secrets.add_subparsers(dest="secrets_command", required=True)
    init = secrets_sub.add_parser("init", help="create the secrets file with random values "
                                               "for every seat and expert, if it does not exist")
    init.set_defaults(handler=_secrets_init)


def _check(args: argparse.Namespace) -> int:
    config = load_or_report(args)
    if config is None:
        return EXIT_REFUSED
    print(f"{config.path}: OK — {len(config.seats)} seats, {len(config.departments)} departments, "
          f"{len(config.experts)} experts; remit table: {len(config.remit.departments)} departments, "
          f"{len(config.remit.overlaps)} overlaps")
    if len(config.pbxes) > 1:
        for pbx in config.pbxes:
            print(f"  PBX {pbx.name} ({pbx.display_name}): {len(pbx.seats)} seats, "
                  f"AMI {pbx.ami.host}:{pbx.ami.port}, SIP {pbx.sip.bind}:{pbx.sip.port}")
    return EXIT_OK


def _secrets_init(args: argparse.Namespace) -> int:
    path = write_demo_secrets(Path(args.config))
    if path is None:
        print("secrets file already exists; left unchanged", file=sys.stderr)
        return EXIT_OK
    print(f"wrote {path}")
    return EXIT_OK

"""`hotline pbx render`: hotline.conf -> the Asterisk configuration, prompts and manifest.

Validates first: a configuration with any problem is refused (exit 2) and nothing is written.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hotline.cli import EXIT_OK, EXIT_REFUSED
from hotline.cli.common import load_or_report

DEFAULT_OUT = "dialplans"  # next to hotline.conf


def register(subparsers: argparse._SubParsersAction) -> None:
    pbx = subparsers.add_parser("pbx", help="the Asterisk side: render its configuration")
    pbx_sub = pbx.add_subparsers(dest="pbx_command", required=True)
    render = pbx_sub.add_parser("render", help="write the Asterisk configuration, prompts and "
                                               "hotline-pbx.json from hotline.conf")
    render.add_argument("--out", type=Path, default=None,
                        help=f"output directory (default: {DEFAULT_OUT}/ next to hotline.conf)")
    render.set_defaults(handler=_render)


def _render(args: argparse.Namespace) -> int:
    config = load_or_report(args)
    if config is None:
        return EXIT_REFUSED
    from ivr.errors import RenderError  # the renderer (and its tools) only for this command
    from ivr.render import render_pbx

    out_dir = args.out if args.out is not None else config.path.parent / DEFAULT_OUT
    try:
        report = render_pbx(config, out_dir)
    except RenderError as exc:
        print(f"hotline pbx render: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    for path in report.written:
        print(f"wrote     {out_dir / path}")
    for path in report.removed:
        print(f"removed   {out_dir / path}")
    print(f"{out_dir}: {len(report.written)} written, {len(report.unchanged)} unchanged, "
          f"{len(report.removed)} removed")
    return EXIT_OK

"""`hotline pbx render`: hotline.conf -> the Asterisk configuration, prompts and manifest.

Validates first: a configuration with any problem is refused (exit 2) and nothing is written.
With several PBXs ([pbx NAME] sections) each gets its own configuration with only its seats:
the first PBX in the output folder as with one PBX (so adding a hall moves nothing), every
further PBX in its sub-folder pbx-NAME/. `--pbx NAME` renders just that one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hotline.cli import EXIT_OK, EXIT_REFUSED
from hotline.cli.common import load_or_report
from hotline.config import HotlineConfig

DEFAULT_OUT = "dialplans"  # next to hotline.conf


def register(subparsers: argparse._SubParsersAction) -> None:
    pbx = subparsers.add_parser("pbx", help="the Asterisk side: render its configuration")
    pbx_sub = pbx.add_subparsers(dest="pbx_command", required=True)
    render = pbx_sub.add_parser("render", help="write the Asterisk configuration, prompts and "
                                               "hotline-pbx.json from hotline.conf")
    render.add_argument("--out", type=Path, default=None,
                        help=f"output directory (default: {DEFAULT_OUT}/ next to hotline.conf)")
    render.add_argument("--pbx", default=None, metavar="NAME",
                        help="render only this PBX, into --out (default: every PBX; the first in "
                             f"{DEFAULT_OUT}/, each further one in {DEFAULT_OUT}/pbx-NAME/)")
    render.set_defaults(handler=_render)


def pbx_folder(config: HotlineConfig, name: str, out: Path) -> Path:
    """Where PBX `name` is rendered under `out`: the first PBX in `out` itself."""
    return out if name == config.pbxes[0].name else out / f"pbx-{name}"


def _render(args: argparse.Namespace) -> int:
    config = load_or_report(args)
    if config is None:
        return EXIT_REFUSED
    names = [p.name for p in config.pbxes]
    if args.pbx is not None and args.pbx not in names:
        print(f"hotline pbx render：没有名为“{args.pbx}”的交换机；hotline.conf 中有："
              + "、".join(names), file=sys.stderr)
        return EXIT_REFUSED
    out = args.out if args.out is not None else config.path.parent / DEFAULT_OUT
    if args.pbx is not None:
        targets = [(args.pbx, out if args.out is not None else pbx_folder(config, args.pbx, out))]
    else:
        targets = [(name, pbx_folder(config, name, out)) for name in names]
    for name, out_dir in targets:
        if _render_one(config.for_pbx(name), out_dir) != EXIT_OK:
            return EXIT_REFUSED
    return EXIT_OK


def _render_one(config: HotlineConfig, out_dir: Path) -> int:
    """One PBX's configuration, as the view `config.for_pbx` gives it."""
    from ivr.errors import RenderError  # the renderer (and its tools) only for this command
    from ivr.render import render_pbx

    try:
        report = render_pbx(config, out_dir)
    except RenderError as exc:
        print(f"hotline pbx render：{exc}", file=sys.stderr)
        return EXIT_REFUSED
    for path in report.written:
        print(f"已写入  {out_dir / path}")
    for path in report.removed:
        print(f"已删除  {out_dir / path}")
    print(f"{out_dir}：写入 {len(report.written)} 个文件，{len(report.unchanged)} 个未变，"
          f"删除 {len(report.removed)} 个")
    return EXIT_OK

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
    pbx = subparsers.add_parser("pbx", help="交换机（Asterisk）一侧：生成它的配置")
    pbx_sub = pbx.add_subparsers(dest="pbx_command", required=True)
    render = pbx_sub.add_parser("render", help="由 hotline.conf 生成 Asterisk 配置、提示音"
                                               "和 hotline-pbx.json")
    render.add_argument("--out", type=Path, default=None,
                        help=f"输出目录（默认：hotline.conf 旁的 {DEFAULT_OUT}/）")
    render.add_argument("--pbx", default=None, metavar="NAME",
                        help="只生成这台交换机，写入 --out（默认：全部交换机；第一台在 "
                             f"{DEFAULT_OUT}/，其余各在 {DEFAULT_OUT}/pbx-NAME/）")
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

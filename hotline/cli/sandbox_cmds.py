"""`hotline sandbox build|up|down|status|cli`: the demo PBX, a real Asterisk on this machine.

`up` renders hotline.conf for the sandbox (voicemail spool moved into the instance, so the demo
never writes to the machine's /var/spool) into its own directory, not into dialplans/: the
production render stays untouched by sandbox paths.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from hotline.cli import EXIT_FAILED, EXIT_OK, EXIT_REFUSED
from hotline.cli.common import load_or_report
from hotline.cli.parser import ChineseArgumentParser
from hotline.cli.simulate_cmd import register as register_simulate
from hotline.sandbox import (
    SandboxError,
    SandboxPbx,
    SandboxStatus,
    ensure_root,
    root_dir,
    sandbox_overrides,
)
from hotline.sandbox.instance import BOOT_TIMEOUT_S

DEMO_INSTANCE = "demo"
# Relative to the directory of hotline.conf (var/ is ignored by git); one subdirectory per name.
RENDER_BASE = Path("var") / "sandbox"
DEFAULT_RENDER_DIR = RENDER_BASE / DEMO_INSTANCE

def register(subparsers: argparse._SubParsersAction) -> None:
    sandbox = subparsers.add_parser("sandbox", help="运行演示交换机（chroot 中的 Asterisk 22）")
    sandbox_sub = sandbox.add_subparsers(dest="sandbox_command", required=True)
    rendered = ChineseArgumentParser(add_help=False)
    rendered.add_argument("--name", default=DEMO_INSTANCE,
                          help=f"实例名称（默认：{DEMO_INSTANCE}）；测试各用自己的")
    rendered.add_argument("--out", type=Path, default=None,
                          help="沙箱生成的配置所在目录"
                               f"（默认：hotline.conf 旁的 {DEFAULT_RENDER_DIR}）")

    build = sandbox_sub.add_parser("build", help="构建或解包缓存的 Asterisk 根目录")
    build.set_defaults(handler=_build)

    up = sandbox_sub.add_parser("up", parents=[rendered],
                                help="生成 hotline.conf 的配置并（重新）启动演示交换机")
    up.add_argument("--timeout", type=float, default=BOOT_TIMEOUT_S,
                    help="等待启动的秒数")
    up.set_defaults(handler=_up)

    down = sandbox_sub.add_parser("down", parents=[rendered], help="停止演示交换机")
    down.set_defaults(handler=_down)

    status = sandbox_sub.add_parser("status", parents=[rendered],
                                    help="演示交换机是否在运行、在哪里")
    status.add_argument("--json", action="store_true", help="打印供脚本使用的 JSON")
    status.set_defaults(handler=_status)

    cli = sandbox_sub.add_parser("cli", parents=[rendered],
                                 help="在演示交换机中执行一条 Asterisk 命令")
    cli.add_argument("cli_command", metavar="COMMAND", help="例如 'queue show'")
    cli.set_defaults(handler=_cli)

    register_simulate(sandbox_sub, rendered)


def _render_dir(args: argparse.Namespace) -> Path:
    if args.out is not None:
        return Path(args.out).resolve()
    return Path(args.config).resolve().parent / RENDER_BASE / args.name


def demo_overrides(args: argparse.Namespace) -> dict[str, str]:
    """For `hotline serve --sandbox`: the same overrides `sandbox up` rendered with."""
    return sandbox_overrides(_existing_pbx(args))


def _existing_pbx(args: argparse.Namespace) -> SandboxPbx:
    """The instance without building a root: stopping or asking must never build."""
    return SandboxPbx(args.name, _render_dir(args), root=root_dir())


def _fail(exc: Exception) -> int:
    print(f"hotline sandbox：{exc}", file=sys.stderr)
    return EXIT_FAILED


def _configure_progress() -> None:
    """Show the root build's progress: it can take a minute on the first run."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)


def _build(args: argparse.Namespace) -> int:
    del args
    _configure_progress()
    try:
        root = ensure_root()
    except SandboxError as exc:
        return _fail(exc)
    print(root)
    return EXIT_OK


def _up(args: argparse.Namespace) -> int:
    _configure_progress()
    try:
        root = ensure_root()
    except SandboxError as exc:
        return _fail(exc)
    out_dir = _render_dir(args)
    try:
        pbx = SandboxPbx(args.name, out_dir, root=root)
    except SandboxError as exc:
        return _fail(exc)
    overrides = sandbox_overrides(pbx)
    host_spool = Path(overrides["voicemail.spool"])
    config = load_or_report(args, overrides=overrides)
    if config is None:
        return EXIT_REFUSED
    from ivr import errors, render  # the renderer is only needed here

    try:
        # The sandbox plays the first PBX: its seats only (each further PBX: `pbx render --pbx`).
        render.render_pbx(config.for_pbx(config.pbxes[0].name), out_dir)
    except errors.RenderError as exc:
        print(f"hotline sandbox：无法生成交换机配置：{exc}", file=sys.stderr)
        return EXIT_REFUSED
    host_spool.mkdir(parents=True, exist_ok=True)
    Path(overrides["recording.spool"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        status = pbx.up(timeout=args.timeout)
    except SandboxError as exc:
        return _fail(exc)
    print(_describe_text(status, host_spool))
    return EXIT_OK


def _down(args: argparse.Namespace) -> int:
    try:
        _existing_pbx(args).down()
    except SandboxError as exc:
        return _fail(exc)
    print(f"沙箱 {args.name}：已停止")
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    try:
        pbx = _existing_pbx(args)
    except SandboxError as exc:
        return _fail(exc)
    status = pbx.status()
    spool = Path(sandbox_overrides(pbx)["voicemail.spool"])
    if args.json:
        print(json.dumps(_describe(status, spool), ensure_ascii=False, indent=2))
    else:
        print(_describe_text(status, spool))
    return EXIT_OK


def _cli(args: argparse.Namespace) -> int:
    try:
        output = _existing_pbx(args).cli(args.cli_command)
    except SandboxError as exc:
        return _fail(exc)
    sys.stdout.write(output)
    return EXIT_OK


def _describe(status: SandboxStatus, spool: Path) -> dict[str, Any]:
    """The JSON scripts and tests read: how to reach the demo PBX and where its files are."""
    return {**status.to_dict(), "spool": str(spool)}


def _describe_text(status: SandboxStatus, spool: Path) -> str:
    state = f"运行中（pid {status.pid}）" if status.running else "已停止"
    lines = [f"沙箱 {status.name}：{state}",
             f"  版本：      {status.version or '尚未构建 Asterisk 根目录'}",
             f"  交换机目录：{status.pbx_dir}（在本机：{status.root}{status.pbx_dir}）",
             f"  留言目录：  {spool}"]
    if status.ami is not None:
        lines.append(f"  AMI：       {status.ami.host}:{status.ami.port}，"
                     f"用户 {status.ami.username}")
    if status.sip is not None:
        lines.append(f"  SIP：       {status.sip.bind}:{status.sip.port}")
    return "\n".join(lines)

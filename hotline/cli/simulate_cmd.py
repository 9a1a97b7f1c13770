"""`hotline sandbox simulate`: demo traffic against the sandbox PBX and a running `hotline serve`.

Seat phones register and answer, citizens call by day, now and then an expert joins a call,
and after-hours callers leave messages, so the wallboard comes alive. Runs until Ctrl-C /
SIGTERM (or `--duration`); `--once` plays a fixed small scenario and exits 0 only if all of it
happened. The engine is hotline/sandbox/simulate.py; the choices come from simulate_plan.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from hotline.cli import EXIT_FAILED, EXIT_OK, EXIT_REFUSED
from hotline.cli.common import load_or_report

DEFAULT_SEATS = 12
DEFAULT_RATE = 3.0
DEFAULT_MAX_CALLS = 8
DEFAULT_ONCE_CALLS = 3
DEFAULT_ONCE_MESSAGES = 2
MAX_MAX_CALLS = 20  # two cores: every line is a baresip process and two RTP streams
UNSPECIFIED_BINDS = ("", "0.0.0.0", "::", "[::]")


def register(sandbox_sub: argparse._SubParsersAction, rendered: argparse.ArgumentParser) -> None:
    """Add `simulate` to `hotline sandbox`; `rendered` carries its --name and --out."""
    sim = sandbox_sub.add_parser(
        "simulate", parents=[rendered],
        help="演示话务：坐席话机接听、市民来电、专家加入、夜间留言",
        description="注册 baresip 坐席话机，通过服务的 API 让它们签入（部分示忙），"
                    "再模拟市民来电：白天来电、有专家加入的三方通话、夜间留言。"
                    "需要沙箱交换机和 hotline serve --sandbox 正在运行。")
    sim.add_argument("--seats", type=int, default=DEFAULT_SEATS,
                     help=f"注册的坐席话机数，取前 N 个工号（默认 {DEFAULT_SEATS}）")
    sim.add_argument("--rate", type=float, default=DEFAULT_RATE,
                     help=f"平均每分钟的市民来电数（默认 {DEFAULT_RATE:g}）")
    sim.add_argument("--duration", type=float, default=None, metavar="SECONDS",
                     help="运行这么久后停止（默认：一直运行到 Ctrl-C 或 SIGTERM）")
    sim.add_argument("--once", action="store_true",
                     help="一个固定的小场景（--calls 通白天来电，第一通有三方通话；"
                          "--messages 条夜间留言），然后给出小结")
    sim.add_argument("--calls", type=int, default=DEFAULT_ONCE_CALLS,
                     help=f"--once 的白天来电数（默认 {DEFAULT_ONCE_CALLS}）")
    sim.add_argument("--messages", type=int, default=DEFAULT_ONCE_MESSAGES,
                     help=f"--once 的夜间留言数（默认 {DEFAULT_ONCE_MESSAGES}）")
    sim.add_argument("--seed", type=int, default=None, help="随机种子，用于可重复的运行")
    sim.add_argument("--fast", action="store_true",
                     help="缩短振铃和通话（以秒代替分钟）")
    sim.add_argument("--api", default=None, metavar="URL",
                     help="正在运行的服务（默认：配置中的 http://[api] bind:port）")
    sim.add_argument("--max-calls", type=int, default=DEFAULT_MAX_CALLS,
                     help=f"同时使用的市民话机数（默认 {DEFAULT_MAX_CALLS}）")
    sim.add_argument("--wait-service", type=float, default=0.0, metavar="SECONDS",
                     help="等待服务应答的秒数（默认：立即失败）")
    sim.add_argument("--work-dir", type=Path, default=None,
                     help="话机的文件和日志保存在此（默认：临时目录，"
                          "结束时删除）")
    sim.set_defaults(handler=_simulate)


def _refuse(message: str) -> int:
    print(f"hotline sandbox simulate：{message}", file=sys.stderr)
    return EXIT_REFUSED


def _simulate(args: argparse.Namespace) -> int:
    from hotline.cli.sandbox_cmds import RENDER_BASE
    from hotline.sandbox import SandboxError, SandboxPbx, root_dir
    from hotline.sandbox.simulate import SimulationOptions, once_complete, run_simulation

    config = load_or_report(args)
    if config is None:
        return EXIT_REFUSED
    config = config.for_pbx(config.pbxes[0].name)  # the sandbox is the first PBX: its seats only
    problems = [
        (not 1 <= args.seats <= len(config.seats), f"--seats 应在 1 到 {len(config.seats)} 之间"),
        (args.rate <= 0, "--rate 必须大于 0"),
        (args.duration is not None and args.duration <= 0, "--duration 必须大于 0"),
        (args.calls < 0 or args.messages < 0, "--calls 和 --messages 不能为负数"),
        (not 1 <= args.max_calls <= MAX_MAX_CALLS, f"--max-calls 应在 1 到 {MAX_MAX_CALLS} 之间"),
        (args.once and args.calls + args.messages > args.max_calls,
         "--once 会同时拨出全部电话：--calls 与 --messages 之和不能超过 --max-calls"),
        (args.wait_service < 0, "--wait-service 不能为负数"),
    ]
    for bad, message in problems:
        if bad:
            return _refuse(message)
    out_dir = (Path(args.out).resolve() if args.out is not None
               else Path(args.config).resolve().parent / RENDER_BASE / args.name)
    try:
        pbx = SandboxPbx(args.name, out_dir, root=root_dir())
    except SandboxError as exc:
        return _refuse(str(exc))
    bind = "127.0.0.1" if config.api.bind in UNSPECIFIED_BINDS else config.api.bind
    options = SimulationOptions(
        seats=args.seats, rate=args.rate, duration=args.duration, once=args.once,
        once_calls=args.calls, once_messages=args.messages, seed=args.seed, fast=args.fast,
        api_url=args.api or f"http://{bind}:{config.api.port}", max_calls=args.max_calls,
        wait_service=args.wait_service,
        work_dir=Path(args.work_dir).resolve() if args.work_dir else None)
    summary = asyncio.run(run_simulation(config, pbx, options))
    if args.once:
        return EXIT_OK if once_complete(summary, options) else EXIT_FAILED
    return EXIT_FAILED if summary.errors and summary.placed == 0 else EXIT_OK

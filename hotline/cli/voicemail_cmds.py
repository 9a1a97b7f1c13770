"""`hotline voicemail play ID` (listen through the local sound card) and `hotline voicemail triage`
(the overnight batch, resumable: run it again after an interruption)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hotline.cli import EXIT_FAILED, EXIT_OK, EXIT_REFUSED
from hotline.cli.common import load_or_report
from hotline.cli.progress import ProgressBar
from hotline.db import make_engine, make_session_factory, upgrade_database
from voicemail.callbacks.play import SoundUnavailable, play_wav
from voicemail.ingest import resolve_archive_path
from voicemail.models import Voicemail
from voicemail.transcribe import TranscriberPool, model_problem
from voicemail.triage_service import pending_ids, triage_pending


def register(subparsers: argparse._SubParsersAction) -> None:
    voicemail = subparsers.add_parser("voicemail", help="留言登记簿")
    sub = voicemail.add_subparsers(dest="voicemail_command", required=True)
    play = sub.add_parser("play", help="用本机声卡播放一条留言")
    play.add_argument("voicemail_id", type=int, metavar="ID", help="留言编号")
    play.set_defaults(handler=_play)
    batch = sub.add_parser("triage", help="分拣所有新留言（有效／无效／待复核）")
    batch.add_argument("--model", type=Path, default=None,
                       help="Vosk 模型目录（默认：配置中的 [vosk] model）")
    batch.add_argument("--limit", type=int, default=None, help="最多分拣 N 条留言")
    batch.add_argument("--workers", type=int, default=None,
                       help="并行解码的进程数（默认：每个 CPU 核一个）")
    batch.set_defaults(handler=_triage)


def _play(args: argparse.Namespace) -> int:
    config = load_or_report(args)
    if config is None:
        return EXIT_REFUSED
    upgrade_database(config)
    engine = make_engine(config.database.url)
    try:
        with make_session_factory(engine)() as session:
            row = session.get(Voicemail, args.voicemail_id)
    finally:
        engine.dispose()
    if row is None or row.archive_name is None:
        print(f"hotline：留言 {args.voicemail_id} "
              + ("不存在" if row is None else "没有录音"), file=sys.stderr)
        return EXIT_REFUSED
    path = resolve_archive_path(config.voicemail.archive, row.archive_name)
    if not path.is_file():
        print(f"hotline：留言 {args.voicemail_id} 的录音不在归档中（{path}）", file=sys.stderr)
        return EXIT_FAILED
    try:
        seconds = play_wav(path, args.voicemail_id)
    except SoundUnavailable as exc:
        print(f"hotline：{exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"已播放留言 {args.voicemail_id}（{seconds:.1f} 秒）", file=sys.stderr)
    return EXIT_OK


def _triage(args: argparse.Namespace) -> int:
    config = load_or_report(args)
    if config is None:
        return EXIT_REFUSED
    model = args.model or config.vosk.model
    problem = model_problem(model)
    if problem is not None:
        print(f"hotline：{model} 没有可用的 Vosk 模型（{problem}）；可用 hotline model install 安装",
              file=sys.stderr)
        return EXIT_REFUSED
    upgrade_database(config)
    engine = make_engine(config.database.url)
    try:
        sessions = make_session_factory(engine)
        total = len(pending_ids(sessions, args.limit))
        print(f"待分拣留言 {total} 条，使用模型 {model}", file=sys.stderr)
        bar = ProgressBar(total, label="分拣 ")
        with TranscriberPool(model, args.workers) as pool:
            if pool.info.warning:
                print(f"hotline：警告：{pool.info.warning}", file=sys.stderr)
            report = triage_pending(sessions, config, pool, limit=args.limit,
                                    progress=lambda done, _n, vid, verdict: bar.update(
                                        done, f"#{vid} {verdict}"))
    finally:
        engine.dispose()
    print(report.summary(), file=sys.stderr)
    if report.superseded_with_callback:
        print("hotline：已被取代的重复留言仍在回访队列中："
              + "、".join(map(str, report.superseded_with_callback)), file=sys.stderr)
    return EXIT_FAILED if report.failed else EXIT_OK

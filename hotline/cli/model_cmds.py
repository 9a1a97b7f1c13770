"""`hotline model install [NAME]`: fetch a Vosk model into the models directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hotline.cli import EXIT_FAILED, EXIT_OK, EXIT_REFUSED
from hotline.cli.common import load_or_report
from hotline.cli.progress import ProgressBar
from voicemail.model_install import DEFAULT_MODEL, ChecksumError, InstallError, install_model

MB = 1 << 20


def register(subparsers: argparse._SubParsersAction) -> None:
    model = subparsers.add_parser("model", help="Vosk 语音识别模型")
    sub = model.add_subparsers(dest="model_command", required=True)
    install = sub.add_parser("install", help="下载、校验并解压官方 Vosk 模型")
    install.add_argument("name", nargs="?", default=DEFAULT_MODEL,
                         help=f"模型名称（默认：{DEFAULT_MODEL}）")
    install.add_argument("--sha256", help="NAME.zip 应有的 SHA-256（未收录的模型必须给出）")
    install.add_argument("--base-url", help="NAME.zip 的下载地址（默认：[vosk] download_url）")
    install.add_argument("--dir", type=Path, help="模型目录（默认：[vosk] model 所在的目录）")
    install.set_defaults(handler=_install)


def _install(args: argparse.Namespace) -> int:
    config = load_or_report(args)
    if config is None:
        return EXIT_REFUSED
    models_dir = args.dir or config.vosk.model.parent
    base_url = args.base_url or config.vosk.download_url
    bar: ProgressBar | None = None

    def progress(done: int, total: int | None) -> None:
        nonlocal bar
        if total is None:
            return
        if bar is None:
            bar = ProgressBar(total, label=f"{args.name} ")
        bar.update(done, f"{done / MB:.1f}/{total / MB:.1f} MB")

    try:
        path = install_model(args.name, models_dir, base_url=base_url, sha256=args.sha256,
                             progress=progress)
    except ChecksumError as exc:
        print(f"hotline：已拒绝：{exc}", file=sys.stderr)
        return EXIT_REFUSED
    except InstallError as exc:
        print(f"hotline：{exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"已安装 {args.name} 到 {path}", file=sys.stderr)
    if path != config.vosk.model:
        print(f"要使用它，请在 hotline.conf 中设置 [vosk] model = {path}", file=sys.stderr)
    return EXIT_OK

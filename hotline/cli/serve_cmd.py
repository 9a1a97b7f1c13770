"""`hotline serve`: migrate the database, then run the API with uvicorn.

The long-running parts (AMI bridge, voicemail workers) are wired in hotline/wiring.py:
each is started by the app's lifespan after the server binds and stopped before it exits.
"""

from __future__ import annotations

import argparse
import logging
import sys

from hotline.cli import EXIT_FAILED, EXIT_OK, EXIT_REFUSED
from hotline.cli.common import load_or_report
from hotline.config import HotlineConfig
from hotline.db import upgrade_database
from hotline.logging import LOG_FORMAT_CHOICES, LOG_FORMAT_ENV, configure_logging, resolve_log_format

log = logging.getLogger(__name__)

LOG_LEVELS = ("debug", "info", "warning", "error")

SHUTDOWN_GRACE_S = 3
"""Open event streams never end by themselves: at shutdown they get this long, then are closed."""


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser("serve", help="迁移数据库并运行 API 服务")
    serve.add_argument("--host", help="绑定的地址（默认：[api] bind）")
    serve.add_argument("--port", type=int, help="绑定的端口（默认：[api] port）")
    serve.add_argument("--log-format", choices=LOG_FORMAT_CHOICES, default=None,
                       help=f"auto（默认：终端上为简短的可读行，否则为 JSON 行）、json 或 human；"
                            f"默认取自 ${LOG_FORMAT_ENV}")
    serve.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="日志级别（默认：info）")
    serve.add_argument("--sandbox", action="store_true",
                       help="连接由 hotline sandbox up 启动的演示交换机")
    serve.add_argument("--no-bridge", action="store_true",
                       help="只运行 API，不连接 Asterisk")
    serve.add_argument("--node-id", default=None,
                       help="多个节点共用一个 PostgreSQL 时本节点的名称"
                            "（默认：$HOTLINE_NODE_ID，否则为 主机:端口）")
    serve.set_defaults(handler=_serve, name="demo", out=None)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # imported here so other commands do not pay for it

    try:
        log_format = resolve_log_format(args.log_format)
    except ValueError as error:
        print(f"hotline serve：{error}", file=sys.stderr)
        return EXIT_REFUSED
    configure_logging(log_format, args.log_level)
    overrides = None
    if args.sandbox:
        from hotline.cli.sandbox_cmds import demo_overrides

        overrides = demo_overrides(args)
    config = load_or_report(args, overrides=overrides)
    if config is None:
        return EXIT_REFUSED
    if args.sandbox:
        config = _demo_model(args, config, overrides or {})
        if config is None:
            return EXIT_REFUSED
    host = args.host or config.api.bind
    port = args.port if args.port is not None else config.api.port
    try:
        upgrade_database(config)
    except Exception:
        log.exception("database migration failed; not starting")
        return EXIT_FAILED
    from hotline.cluster import default_node_id
    from hotline.wiring import build_app

    app = build_app(config, bridge=not args.no_bridge, node_id=args.node_id or default_node_id(port))
    log.info("serving on http://%s:%s", host, port, extra={"host": host, "port": port})
    # log_config=None keeps our logging; access_log=False: our middleware logs requests
    # (without query strings, with the principal).
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False,
                log_level=args.log_level, timeout_graceful_shutdown=SHUTDOWN_GRACE_S)
    return EXIT_OK



def _demo_model(args: argparse.Namespace, config: HotlineConfig,
                overrides: dict[str, str]) -> HotlineConfig | None:
    """The demo triages even without a Chinese model: with the small stand-in CI uses (its loud
    warning shows in the log, in /api/health and on the screening page)."""
    from voicemail.transcribe import default_test_model_path, model_problem

    if model_problem(config.vosk.model) is None:
        return config
    try:
        stand_in = default_test_model_path()
    except RuntimeError as exc:
        log.warning("demo: no Vosk model at %s and no stand-in (%s): triage stays off",
                    config.vosk.model, exc)
        return config
    log.warning("!!! demo: no Chinese Vosk model at %s; triage runs with the stand-in model %s: "
                "its transcripts are never trusted, messages with speech go to the screening desk !!!",
                config.vosk.model, stand_in)
    return load_or_report(args, overrides={**overrides, "vosk.model": str(stand_in)})

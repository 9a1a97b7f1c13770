"""`hotline serve`: migrate the database, then run the API with uvicorn.

The long-running parts (AMI bridge, voicemail workers) plug in through `build_components`:
each is started by the app's lifespan after the server binds and stopped before it exits.
"""

from __future__ import annotations

import argparse
import logging

from hotline.api.ami_status import AmiStatus
from hotline.api.app import create_app
from hotline.api.lifespan import Component
from hotline.cli import EXIT_FAILED, EXIT_OK, EXIT_REFUSED
from hotline.cli.common import load_or_report
from hotline.config import HotlineConfig
from hotline.db import upgrade_database
from hotline.logging import LOG_FORMATS, configure_logging

log = logging.getLogger(__name__)

LOG_LEVELS = ("debug", "info", "warning", "error")


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser("serve", help="migrate the database and run the API")
    serve.add_argument("--host", help="address to bind (default: [api] bind)")
    serve.add_argument("--port", type=int, help="port to bind (default: [api] port)")
    serve.add_argument("--log-format", choices=LOG_FORMATS, default="json",
                       help="json lines (default) or a human-readable format")
    serve.add_argument("--log-level", choices=LOG_LEVELS, default="info")
    serve.set_defaults(handler=_serve)


def build_components(config: HotlineConfig) -> tuple[AmiStatus | None, list[Component]]:
    """The AMI status provider and the components to run with the app.

    Hook for the next steps: the AMI client (telephony/ami) becomes both the status provider
    and the first component; the voicemail ingest and triage workers follow it.
    """
    del config  # nothing to wire yet
    return None, []


def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # imported here so other commands do not pay for it

    configure_logging(args.log_format, args.log_level)
    config = load_or_report(args)
    if config is None:
        return EXIT_REFUSED
    host = args.host or config.api.bind
    port = args.port if args.port is not None else config.api.port
    try:
        upgrade_database(config)
    except Exception:
        log.exception("database migration failed; not starting")
        return EXIT_FAILED
    ami_status, components = build_components(config)
    app = create_app(config, ami_status=ami_status, components=components)
    log.info("serving on http://%s:%s", host, port, extra={"host": host, "port": port})
    # log_config=None keeps our logging; access_log=False: our middleware logs requests
    # (without query strings, with the principal).
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False,
                log_level=args.log_level)
    return EXIT_OK


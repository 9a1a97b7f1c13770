"""`hotline voicemail play ID`: listen to a message through the local sound card."""

from __future__ import annotations

import argparse
import sys

from hotline.cli import EXIT_FAILED, EXIT_OK, EXIT_REFUSED
from hotline.cli.common import load_or_report
from hotline.db import make_engine, make_session_factory, upgrade_database
from voicemail.callbacks.play import SoundUnavailable, play_wav
from voicemail.ingest import resolve_archive_path
from voicemail.models import Voicemail


def register(subparsers: argparse._SubParsersAction) -> None:
    voicemail = subparsers.add_parser("voicemail", help="the voicemail register")
    sub = voicemail.add_subparsers(dest="voicemail_command", required=True)
    play = sub.add_parser("play", help="play a message on this machine's sound card")
    play.add_argument("voicemail_id", type=int, metavar="ID")
    play.set_defaults(handler=_play)


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
        print(f"hotline: voicemail {args.voicemail_id} "
              + ("does not exist" if row is None else "has no recording"), file=sys.stderr)
        return EXIT_REFUSED
    path = resolve_archive_path(config.voicemail.archive, row.archive_name)
    if not path.is_file():
        print(f"hotline: the audio of voicemail {args.voicemail_id} is missing from the archive "
              f"({path})", file=sys.stderr)
        return EXIT_FAILED
    try:
        seconds = play_wav(path, args.voicemail_id)
    except SoundUnavailable as exc:
        print(f"hotline: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"played voicemail {args.voicemail_id} ({seconds:.1f} s)", file=sys.stderr)
    return EXIT_OK

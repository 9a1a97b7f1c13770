"""The web app of a two-hall hotline.conf ("main" and "west"), with an unstarted Hall per PBX."""

from __future__ import annotations

from pathlib import Path

from hotline.config import load_config
from hotline.db import upgrade_database
from hotline.wiring import attach_bridge
from telephony.hall import Hall, Halls
from telephony.hall_feed import attach_halls
from tests.two_halls import two_hall_conf
from tests.web.conftest import StreamCutter, WebApp, build_web_app


def two_hall_web(tmp_path: Path) -> WebApp:
    """Every seat of both halls offline, as the pages meet them before the PBXs answer."""
    conf = two_hall_conf(tmp_path / "hall")
    config = load_config(conf, overrides={"database.url": f"sqlite:///{tmp_path}/web.db",
                                          "voicemail.archive": str(tmp_path / "archive")})
    upgrade_database(config)
    built = build_web_app(config, with_hall=False)
    halls = Halls([Hall(config.for_pbx(pbx.name), None) for pbx in config.pbxes])
    for hall in halls:
        hall.board.mark_fresh()
    attach_bridge(built.app, halls)
    attach_halls(halls, built.feed)
    built.hall = halls.first
    built.asgi = StreamCutter(built.app)
    return built

"""The wallboard with two PBXs (two halls): a row per hall and the total, and every hall's tiles."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from hotline.auth import Role
from hotline.config import load_config
from hotline.db import upgrade_database
from telephony.hall import Hall, Halls
from telephony.live import attach_halls
from tests.two_halls import two_hall_conf
from tests.web.conftest import Pages, StreamCutter, WebApp, build_web_app, serve_app


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebApp]:
    """The app of a two-hall hotline.conf with an unstarted Hall per PBX (all seats offline)."""
    conf = two_hall_conf(tmp_path / "hall")
    config = load_config(conf, overrides={"database.url": f"sqlite:///{tmp_path}/web.db",
                                          "voicemail.archive": str(tmp_path / "archive")})
    upgrade_database(config)
    built = build_web_app(config, with_hall=False)
    halls = Halls([Hall(config.for_pbx(pbx.name), None) for pbx in config.pbxes])
    for hall in halls:
        hall.board.mark_fresh()
    built.app.state.hall, built.app.state.halls = halls.first, halls
    attach_halls(halls, built.feed)
    built.hall = halls.first
    built.asgi = StreamCutter(built.app)
    try:
        yield built
    finally:
        built.app.state.engine.dispose()


@pytest.fixture
def base_url(web: WebApp) -> Iterator[str]:
    with serve_app(web.asgi) as url:
        yield url


def test_the_wallboard_shows_each_hall_and_the_total(web: WebApp, pages: Pages) -> None:
    page = pages.open("/wallboard", token=web.token(Role.MONITOR, "wall-halls"))
    expect(page.locator("#connection")).to_have_attribute("data-connection", "live")
    expect(page.locator("#halls")).to_be_visible()
    rows = page.locator("#hall-rows tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator("th")).to_have_text(web.config.hall.name)
    expect(rows.nth(1).locator("th")).to_have_text("城西大厅")
    expect(rows.nth(2).locator("th")).to_have_text("合计")
    expect(rows.nth(0)).to_have_attribute("data-hall", "main")
    expect(rows.nth(1)).to_have_attribute("data-hall", "west")
    expect(rows.nth(1).locator("td").nth(0)).to_have_text("未连接")  # an unstarted hall: no AMI link
    expect(rows.nth(2).locator("td").nth(1)).to_have_text("0/0/0")
    expect(page.locator("#tiles [data-seat]")).to_have_count(52)
    expect(page.locator('#tiles [data-seat="61"]')).to_have_attribute("data-hall", "west")
    expect(page.locator('#tiles [data-seat="61"]')).to_have_attribute("aria-label", "城西大厅 61号座席 离线")
    expect(page.locator('#tiles [data-seat="07"]')).to_have_attribute("data-hall", "main")
    expect(page.locator('#legend [data-state="offline"]')).to_have_text("离线 52")

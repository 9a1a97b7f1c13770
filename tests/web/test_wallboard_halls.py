"""The wallboard and the reports page with two PBXs (two halls): a row per hall and the total,
every hall's tiles under its own heading with its counts (filling a wall screen), and the
reports of one hall."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import update

from hotline.auth import Role
from hotline.db import session_scope
from seat_manager.state import SeatState
from telephony.models import CallRecord
from tests.reports.seed import seed
from tests.web.conftest import PHONE, WALL_SCREEN, Pages, WebApp, screenshot, serve_app
from tests.web.test_layout import no_sideways_scroll
from tests.web.test_reports import DAY, FIRST, chart_series
from tests.web.two_halls_web import two_hall_web


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebApp]:
    built = two_hall_web(tmp_path)
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


def test_the_tiles_stand_under_each_halls_heading_with_its_counts(web: WebApp, pages: Pages) -> None:
    page = pages.open("/wallboard", token=web.token(Role.MONITOR, "wall-groups"), viewport=WALL_SCREEN)
    expect(page.locator("#connection")).to_have_attribute("data-connection", "live")
    groups = page.locator("#tiles > .tile-hall")
    expect(groups).to_have_count(2)
    main, west = groups.nth(0), groups.nth(1)  # hotline.conf's order
    expect(main).to_have_attribute("data-hall", "main")
    expect(west).to_have_attribute("data-hall", "west")
    expect(main.locator(".tile-hall-name")).to_have_text(web.config.hall.name)
    expect(west.locator(".tile-hall-name")).to_have_text("城西大厅")
    expect(west.locator("h3")).to_contain_text("共 2 席 · 在线 0 · 空闲 0 · 通话中 0 · 小休 0")
    expect(main.locator("h3")).to_contain_text("共 50 席 · 在线 0")
    expect(main.locator("[data-seat]")).to_have_count(50)
    assert west.locator("[data-seat]").evaluate_all("(t) => t.map((x) => x.dataset.seat)") == ["61", "62"]
    expect(west.locator("ol")).to_have_attribute("aria-label", "城西大厅座席状态")

    west_hall = web.app.state.halls.named("west")
    seat = west_hall.board.seat("61") if west_hall is not None else None
    assert seat is not None
    now = datetime.now(UTC)
    web.feed.publish("seat", dataclasses.replace(seat, state=SeatState.AVAILABLE, state_since=now,
                                                 queues=("hotline",)))
    expect(west.locator('[data-seat="61"]')).to_have_attribute("data-state", "available")
    expect(west.locator("h3")).to_contain_text("共 2 席 · 在线 1 · 空闲 1 · 通话中 0 · 小休 0")
    expect(main.locator("h3")).to_contain_text("在线 0")
    expect(page.locator('#legend [data-state="available"]')).to_have_text("空闲 1")
    paused = west_hall.board.seat("62")
    assert paused is not None
    web.feed.publish("seat", dataclasses.replace(paused, state=SeatState.PAUSED, paused=True,
                                                 pause_reason="午休", state_since=now, queues=("hotline",)))
    expect(west.locator('[data-seat="62"] .tile-note')).to_have_text("午休")
    expect(west.locator("h3")).to_contain_text("在线 2 · 空闲 1 · 通话中 0 · 小休 1")

    # On a wall screen both halls, their headings and all 52 tiles fit without scrolling.
    screenshot(page, "wallboard-two-halls")
    sizes = page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight]")
    assert sizes == [WALL_SCREEN["width"], WALL_SCREEN["height"]], "the wallboard must not scroll"
    boxes = page.locator("#tiles [data-seat]").evaluate_all(
        "(tiles) => tiles.map((t) => { const r = t.getBoundingClientRect(); "
        "return [r.top, r.bottom, t.scrollHeight <= t.clientHeight]; })")
    for top, bottom, fits in boxes:
        assert top >= 0 and bottom <= WALL_SCREEN["height"], "a tile is cut off"
        assert fits, "a tile's text overflows it"
    heading = west.locator("h3").bounding_box()
    first_west = west.locator('[data-seat="61"]').bounding_box()
    last_main = main.locator('[data-seat="50"]').bounding_box()
    assert heading is not None and first_west is not None and last_main is not None
    assert last_main["y"] + last_main["height"] <= heading["y"] < first_west["y"]


def test_on_a_phone_the_halls_tiles_follow_each_other(web: WebApp, pages: Pages) -> None:
    page = pages.open("/wallboard", token=web.token(Role.MONITOR, "phone-groups"), viewport=PHONE)
    expect(page.locator("#tiles > .tile-hall")).to_have_count(2)
    expect(page.locator('#tiles > .tile-hall[data-hall="west"] [data-seat]')).to_have_count(2)
    no_sideways_scroll(page)
    tiles = page.locator('#tiles [data-seat="62"]').bounding_box()
    assert tiles is not None and tiles["height"] > 40  # the tiles keep their height (no wall-screen share)
    page.locator('#tiles > .tile-hall[data-hall="west"]').scroll_into_view_if_needed()
    screenshot(page, "wallboard-two-halls-phone")


def test_the_reports_page_shows_each_hall_and_picks_one(web: WebApp, pages: Pages) -> None:
    seed(web.sessions)
    with session_scope(web.sessions) as session:  # seat 01's calls were taken in the west hall
        session.execute(update(CallRecord).where(CallRecord.seat_id == "01").values(pbx="west"))
    token = web.token(Role.MONITOR, "supervisor")
    page = pages.open(f"/reports?from={FIRST}&to={DAY}&day={DAY}", token=token)
    expect(page.locator("#message")).to_contain_text(f"已加载 {FIRST} 至 {DAY}")
    api = httpx.get(f"{pages.base_url}/api/reports?from={FIRST}&to={DAY}&day={DAY}",
                    headers={"Authorization": f"Bearer {token}"}).json()
    rows = page.locator("#halls tbody tr")
    expect(page.locator("#halls-panel")).to_be_visible()
    expect(rows).to_have_count(3)
    west = next(h for h in api["halls"] if h["name"] == "west")
    total = api["halls"][-1]
    assert 0 < west["received"] < total["received"]
    expect(rows.nth(1).locator("th")).to_have_text("城西大厅")
    expect(rows.nth(1).locator("td").nth(0)).to_have_text(str(west["received"]))
    expect(rows.nth(2).locator("th")).to_have_text("合计")
    expect(rows.nth(2).locator("td").nth(0)).to_have_text(str(total["received"]))
    page.locator("#hall").select_option("west")
    expect(page.locator("#seats tbody tr[data-seat='61']")).to_have_count(1)
    expect(page.locator("#seats tbody tr[data-seat='07']")).to_have_count(0)
    expect(page.locator("#hall")).to_have_value("west")
    west_api = httpx.get(f"{pages.base_url}/api/reports?from={FIRST}&to={DAY}&day={DAY}&hall=west",
                         headers={"Authorization": f"Bearer {token}"}).json()
    hourly = chart_series(page, "chart-hourly")  # the charts are the picked hall's, not every hall's
    assert hourly["received"] == west_api["day_hourly"]["received"] != api["day_hourly"]["received"]
    assert chart_series(page, "chart-days")["asa"] == [d["average_speed_of_answer_seconds"]
                                                       for d in west_api["days"]]
    # The export is what is shown: the halls' table as its own sheet, the one hall's seats.
    expect(page.locator("#csv-table option[value='halls']")).to_be_enabled()
    with page.expect_download() as download:
        page.locator("#export-xlsx").click()
    path = download.value.path()
    assert path is not None
    book = load_workbook(io.BytesIO(path.read_bytes()))  # a download has no file name ending
    assert book.sheetnames == ["各大厅与合计", "每日指标", "座席", "分时来电", "留言漏斗"]
    halls = [[cell.value for cell in row] for row in book["各大厅与合计"].iter_rows()]
    assert [row[:2] for row in halls[1:]] == [
        [page.locator("#halls tbody tr").nth(n).locator("th").inner_text(),
         int(page.locator("#halls tbody tr").nth(n).locator("td").nth(0).inner_text())] for n in range(3)]
    shown = page.locator("#seats tbody tr").evaluate_all("(rows) => rows.map((r) => r.dataset.seat)")
    assert "61" in shown and "07" not in shown
    assert [row[0].value for row in book["座席"].iter_rows(min_row=2)] == shown

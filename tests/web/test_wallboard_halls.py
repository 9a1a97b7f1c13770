"""The wallboard and the reports page with two PBXs (two halls): a row per hall and the total,
every hall's tiles, and the reports of one hall."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlalchemy import update

from hotline.auth import Role
from hotline.db import session_scope
from telephony.models import CallRecord
from tests.reports.seed import seed
from tests.web.conftest import Pages, WebApp, serve_app
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

"""The reports page in Chromium on a seeded store: the charts hold the stored numbers (read from
ECharts' own option, not from pixels), the seat table sorts by keyboard, the exports download."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from hotline.auth import Role
from hotline.config import HotlineConfig
from hotline.reports.figures import ReportPeriod
from hotline.reports.store import load_report
from tests.reports.seed import seed
from tests.reports.test_figures import DAY
from tests.web.conftest import REPO, Pages, WebApp, screenshot

FIRST = DAY - timedelta(days=1)
ECHARTS = REPO / "hotline/web/static/vendor/echarts"


def test_echarts_is_vendored_unchanged_with_its_licence() -> None:
    """The file the page loads is the one VENDORED.md records (npm echarts, Apache-2.0), with the
    licence and notice beside it."""
    record = (ECHARTS / "VENDORED.md").read_text(encoding="utf-8")
    recorded = re.search(r"echarts.min.js` sha256: `([0-9a-f]{64})`", record)
    assert recorded is not None
    assert hashlib.sha256((ECHARTS / "echarts.min.js").read_bytes()).hexdigest() == recorded.group(1)
    assert "Apache License" in (ECHARTS / "LICENSE").read_text(encoding="utf-8")
    assert "Apache ECharts" in (ECHARTS / "NOTICE").read_text(encoding="utf-8")
    page = (REPO / "hotline/web/static/reports.html").read_text(encoding="utf-8")
    assert '<script src="/static/vendor/echarts/echarts.min.js"></script>' in page


def chart_series(page: Page, chart: str) -> dict[str, list[Any]]:
    """Each series' data as the chart itself holds it."""
    return page.evaluate("""(id) => {
        const chart = window.echarts.getInstanceByDom(document.getElementById(id));
        return Object.fromEntries(chart.getOption().series.map((s) => [s.id, s.data]));
    }""", chart)


def stored(config: HotlineConfig, web: WebApp, first=FIRST, last=DAY):
    with web.sessions() as session:
        period = ReportPeriod(first, last, config.hall.tz)
        return load_report(session, period, config.queue.service_level_seconds, now=period.end,
                           seat_ids=[s.seat_id for s in config.seats])


def open_report(web: WebApp, pages: Pages) -> tuple[Page, dict[str, Any]]:
    seed(web.sessions)
    token = web.token(Role.MONITOR, "supervisor")
    page = pages.open(f"/reports?from={FIRST}&to={DAY}&day={DAY}", token=token)
    expect(page.locator("#message")).to_contain_text(f"已加载 {FIRST} 至 {DAY}")
    api = httpx.get(f"{pages.base_url}/api/reports?from={FIRST}&to={DAY}&day={DAY}",
                    headers={"Authorization": f"Bearer {token}"}).json()
    return page, api


def test_the_charts_show_the_stored_numbers(web: WebApp, pages: Pages) -> None:
    page, api = open_report(web, pages)
    day = stored(web.config, web, DAY, DAY)
    hourly = chart_series(page, "chart-hourly")
    assert hourly["received"] == list(day.totals.received_by_hour)
    assert sum(hourly["answered"]) == day.totals.answered
    assert sum(hourly["abandoned"]) == day.totals.abandoned
    assert hourly["ref-received"][9] == 1.0 and hourly["ref-answered"][9] == 0.75  # tests.reports.seed
    assert hourly["ref-abandoned"] == api["reference_hourly"]["abandoned"]

    report = stored(web.config, web)
    days = chart_series(page, "chart-days")
    assert days["service-level"] == [None if d.calls.service_level is None
                                     else round(d.calls.service_level * 100, 2) for d in report.days]
    assert days["abandon-rate"] == [None if d.calls.abandon_rate is None
                                    else round(d.calls.abandon_rate * 100, 2) for d in report.days]
    assert days["asa"] == [None if d.calls.average_speed_of_answer is None
                           else round(d.calls.average_speed_of_answer, 1) for d in report.days]

    assert page.evaluate("""() => ['chart-hourly', 'chart-days', 'chart-funnel'].every((id) => {
        const graphic = window.echarts.getInstanceByDom(document.getElementById(id)).getOption().graphic;
        return !graphic || graphic[0].elements.length === 0;
    })""")  # figures to draw: no note over them
    vm = report.voicemails
    stages = [bar["value"] for bar in chart_series(page, "chart-funnel")["funnel"]]
    assert stages == [vm.total, vm.count("invalid"), vm.count("valid"), vm.count("needs_review"),
                      vm.count("new"), 3, 2]  # tests.reports.seed: 3 called back, 2 reached
    assert sum(stages[1:5]) == stages[0] and vm.count("new") > 0  # triage's four outcomes add up
    reasons = page.locator("#invalid-reasons tbody tr")
    expect(reasons).to_have_count(len(vm.reasons["invalid"]))
    screenshot(page, "reports")
    page.locator("#seats-title").evaluate("(title) => title.scrollIntoView()")
    screenshot(page, "reports-seats")


def test_the_seat_table_sorts_from_the_keyboard(web: WebApp, pages: Pages) -> None:
    page, api = open_report(web, pages)
    rows = page.locator("#seats tbody tr")
    expect(rows).to_have_count(len(api["seats"]))
    page.locator('#seats th button[data-key="answered"]').focus()
    page.keyboard.press("Enter")
    header = page.locator('#seats th:has(button[data-key="answered"])')
    expect(header).to_have_attribute("aria-sort", "descending")
    most = max(api["seats"], key=lambda s: s["answered"])
    expect(rows.first).to_have_attribute("data-seat", most["seat_id"])
    page.keyboard.press("Enter")  # the focus stays on the header: again, ascending
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(rows.first.locator("td").nth(1)).to_have_text(str(min(s["answered"] for s in api["seats"])))


def test_the_seat_table_has_a_sortable_column_of_pause_time_per_reason(web: WebApp, pages: Pages) -> None:
    page, api = open_report(web, pages)
    report = stored(web.config, web)
    totals: dict[str, float] = {}
    for seat in report.seats:
        for reason, seconds in seat.pause_by_reason.items():
            totals[reason] = totals.get(reason, 0) + seconds
    reasons = sorted(totals, key=lambda r: (-totals[r], r))
    assert api["pause_reasons"] == reasons and len(reasons) >= 3  # tests.reports.test_figures
    labels = ["工号", "接听数", "通话时长", "平均处理时长", "小休时长", *(f"小休：{r}" for r in reasons)]
    expect(page.locator("#seats thead th")).to_have_text(labels)
    by_seat = {seat.seat_id: seat.pause_by_reason for seat in report.seats}
    assert by_seat["01"]["培训"] == 37800.0
    expect(page.locator("#seats tbody tr[data-seat='01'] td").nth(5)).to_have_text("10:30:00")
    expect(page.locator("#seats tbody tr[data-seat='01'] td").nth(2)).to_have_text("0:04:10")
    column = labels.index("小休：未注明")
    page.get_by_role("button", name="小休：未注明").click()
    header = page.locator("#seats thead th").nth(column)
    expect(header).to_have_attribute("aria-sort", "descending")
    most = sorted((seat for seat in report.seats if "未注明" in seat.pause_by_reason),
                  key=lambda seat: -seat.pause_by_reason["未注明"])
    assert [seat.seat_id for seat in most] == ["02", "09"]
    rows = page.locator("#seats tbody tr")
    expect(rows.nth(0)).to_have_attribute("data-seat", "02")
    expect(rows.nth(1)).to_have_attribute("data-seat", "09")
    expect(rows.nth(0).locator("td").nth(column)).to_have_text("1:00:00")
    expect(rows.nth(2).locator("td").nth(column)).to_have_text("—")


def test_the_exports_download_with_the_token(web: WebApp, pages: Pages) -> None:
    page, _ = open_report(web, pages)
    with page.expect_download() as download:
        page.locator("#export-xlsx").click()
    assert download.value.suggested_filename == f"报表-{FIRST}_{DAY}.xlsx"
    page.locator("#csv-table").select_option("seats")
    with page.expect_download() as download:
        page.locator("#export-csv").click()
    path = download.value.path()
    assert path is not None and path.read_bytes().decode("utf-8-sig").startswith("工号,")


def test_the_presets_pick_the_hall_days(web: WebApp, pages: Pages) -> None:
    token = web.token(Role.MONITOR, "supervisor")
    page = pages.open("/reports", token=token)
    today = datetime.now(web.config.hall.tz).date()
    expect(page.locator("#message")).to_contain_text(f"已加载 {today} 至 {today}")
    expected = {
        "yesterday": (today - timedelta(days=1), today - timedelta(days=1)),
        "week": (today - timedelta(days=today.weekday()), today),
        "month": (today.replace(day=1), today),
        "today": (today, today),
    }
    notes = page.evaluate("""() => ['chart-hourly', 'chart-days', 'chart-funnel'].map((id) => {
        const graphic = window.echarts.getInstanceByDom(document.getElementById(id)).getOption().graphic;
        return graphic && graphic[0].elements.map((e) => e.style.text).join('');
    })""")  # an empty store: each chart says it has nothing, rather than showing bare axes
    assert notes == ["这一天与前四周同一星期都没有来电记录", "所选日期没有来电记录", "所选日期没有收到留言"]
    for preset, (first, last) in expected.items():
        page.locator("#preset").select_option(preset)
        expect(page.locator("#message")).to_contain_text(f"已加载 {first} 至 {last}")
        expect(page.locator("#day option")).to_have_count((last - first).days + 1)
        assert len(chart_series(page, "chart-days")["asa"]) == (last - first).days + 1


def test_after_a_linked_range_the_presets_still_count_from_the_hall_today(web: WebApp, pages: Pages) -> None:
    """A link to last month's range, then 今天 and 本月: today's figures, not the link's last day's;
    then any range typed in the date fields and asked for with 查询."""
    page, _ = open_report(web, pages)
    today = datetime.now(web.config.hall.tz).date()
    page.locator("#preset").select_option("today")
    expect(page.locator("#message")).to_contain_text(f"已加载 {today} 至 {today}")
    page.locator("#preset").select_option("month")
    expect(page.locator("#message")).to_contain_text(f"已加载 {today.replace(day=1)} 至 {today}")
    page.locator("#from").fill(str(FIRST - timedelta(days=5)))
    page.locator("#to").fill(str(DAY))
    expect(page.locator("#preset")).to_have_value("custom")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#message")).to_contain_text(f"已加载 {FIRST - timedelta(days=5)} 至 {DAY}")
    expect(page.locator("#day option")).to_have_count(7)
    assert len(chart_series(page, "chart-days")["asa"]) == 7
    page.locator("#from").fill(str(DAY))  # backwards: the API's refusal, in Chinese, on the page
    page.locator("#to").fill(str(FIRST))
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#message")).to_have_text(f"加载报表失败：开始日期（{DAY}）晚于结束日期（{FIRST}）")


def test_the_starts_late_report_does_not_replace_the_picked_range(web: WebApp, pages: Pages) -> None:
    """The page asks for the linked range at start; the supervisor picks 昨天 at once. The start's
    answer arriving last must not draw the linked range over the picked one."""
    from tests.web.test_callbacks import HOLD_NEXT_REPLY

    seed(web.sessions)
    context = pages.browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    linked = f"from={FIRST}&to={DAY}&day={DAY}"
    page.add_init_script(f"({HOLD_NEXT_REPLY})('/api/reports?{linked}')")
    page.goto(f"{pages.base_url}/reports?{linked}#token={web.token(Role.MONITOR, 'supervisor')}")
    page.wait_for_function("() => window.heldReply && window.heldReply.release !== null")
    page.locator("#preset").select_option("yesterday")
    yesterday = page.locator("#from").input_value()  # the page's own yesterday
    assert yesterday not in (str(FIRST), str(DAY))
    expect(page.locator("#message")).to_contain_text(f"已加载 {yesterday} 至 {yesterday}")
    page.evaluate("() => window.heldReply.release()")
    page.wait_for_timeout(300)  # the stale reply is read and (not) drawn within a few ms
    expect(page.locator("#message")).to_contain_text(f"已加载 {yesterday} 至 {yesterday}")
    expect(page.locator("#from")).to_have_value(yesterday)
    context.close()

"""Layout: a 390 px phone never scrolls sideways; the wallboard fills a 1920x1080 wall screen with
fifty readable tiles; keyboard focus is visible. Screenshots of every page go to /tmp/web-shots/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from hotline.auth import Role
from seat_manager.state import SeatCall, SeatState
from tests.web.conftest import PHONE, WALL_SCREEN, Pages, WebApp, screenshot, tab_to
from tests.web.data import add_callback

LONG_TRANSCRIPT = ("您好，我是幸福里小区三号楼的住户，我们这栋楼从星期一开始就停水了，已经三天了，"
                   "物业说是供水集团的管道在维修，但是一直没有人来通知什么时候能恢复，家里有老人和小孩，"
                   "非常不方便，麻烦尽快帮忙协调处理，谢谢。联系电话就是这个号码。") * 2
MIN_TILE_NUMBER_PX = 40  # the seat numbers on the wall screen, read from across the hall


def no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url}: content {widths[0]} px wide in a {widths[1]} px window"


def fill_the_hall(web: WebApp) -> None:
    """A few callbacks and seats in every state, as the screenshots should show them."""
    archive = web.config.voicemail.archive
    add_callback(web.sessions, archive, number="13912345678", name="李女士", transcript=LONG_TRANSCRIPT,
                 priority="urgent", left_minutes_ago=720)
    add_callback(web.sessions, archive, number="13800001111", name=None, transcript="路灯不亮，晚上很危险",
                 department="供电公司", left_minutes_ago=640)
    add_callback(web.sessions, archive, number="02787654321", name="王先生", transcript="楼下饭店油烟扰民",
                 department="市场监督管理局", left_minutes_ago=610)


def show_seats(web: WebApp) -> None:
    now = datetime.now(UTC)
    call = SeatCall(citizen_number="13912340000", citizen_name="钱先生", linkedid="1764290000.17",
                    seat_channel=None, caller_channel=None, queue="hotline", offered_at=now,
                    started_at=now - timedelta(seconds=95), queue_wait_seconds=8, three_way=False,
                    ended_at=None)
    member = ("hotline",)
    for number in range(1, 51):
        seat_id = f"{number:02d}"
        kind = number % 7
        if kind == 0:
            web.publish_seat(seat_id, state=SeatState.PAUSED, state_since=now - timedelta(minutes=number),
                             queues=member, paused=True, pause_reason=("午休", "培训", "会议")[number % 3])
        elif kind in (1, 2, 3):
            web.publish_seat(seat_id, state=SeatState.ON_CALL, queues=member, call=call,
                             state_since=now - timedelta(seconds=13 * number))
        elif kind == 4:
            web.publish_seat(seat_id, state=SeatState.AVAILABLE, queues=member,
                             state_since=now - timedelta(seconds=40 + number))
        elif kind == 5:
            web.publish_seat(seat_id, state=SeatState.WRAP_UP, queues=member, state_since=now,
                             wrapup_until=now + timedelta(seconds=10))
        elif number < 40:
            web.publish_seat(seat_id, state=SeatState.RINGING, queues=member, state_since=now)
        else:
            web.publish_seat(seat_id, state=SeatState.LOGGED_OUT, state_since=now - timedelta(hours=1))


def ready(page: Page, path: str) -> None:
    """Wait until `path` shows its data."""
    if path == "/wallboard":
        expect(page.locator("#tiles [data-seat]")).to_have_count(50)
    elif path == "/callbacks":
        expect(page.locator("#queue .cb-item")).to_have_count(3)
        page.locator("#queue .cb-item").first.click()
        expect(page.locator("#d-name")).to_have_text("李女士")
    elif path == "/operator":
        expect(page.locator("#departments li")).to_have_count(5)
    if path != "/":
        expect(page.locator("#connection")).to_have_attribute("data-connection", "live")


@pytest.mark.parametrize("path", ["/", "/wallboard", "/callbacks", "/operator"])
def test_a_phone_never_scrolls_sideways(web: WebApp, pages: Pages, path: str) -> None:
    fill_the_hall(web)
    page = pages.open(path, token=web.token(Role.OPERATOR, "07"), viewport=PHONE)
    ready(page, path)
    if path == "/wallboard":
        show_seats(web)
        expect(page.locator('#tiles [data-state="on_call"]')).not_to_have_count(0)
    no_sideways_scroll(page)
    screenshot(page, f"phone{path.replace('/', '-') if path != '/' else '-index'}")


def test_the_token_form_fits_a_phone_and_a_wall_screen(pages: Pages) -> None:
    page = pages.open("/callbacks", viewport=PHONE)
    expect(page.locator("#token-gate")).to_be_visible()
    no_sideways_scroll(page)
    page = pages.open("/wallboard", viewport=WALL_SCREEN)
    expect(page.locator("#token-gate")).to_be_visible()
    screenshot(page, "token-form")


def test_the_wallboard_fills_a_wall_screen_with_readable_tiles(web: WebApp, pages: Pages) -> None:
    page = pages.open("/wallboard", token=web.token(Role.MONITOR, "wall"), viewport=WALL_SCREEN)
    ready(page, "/wallboard")
    show_seats(web)
    expect(page.locator('#tiles [data-state="ringing"]')).not_to_have_count(0)
    sizes = page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight]")
    assert sizes == [WALL_SCREEN["width"], WALL_SCREEN["height"]], "the wallboard must not scroll"
    boxes = page.locator("#tiles [data-seat]").evaluate_all(
        "(tiles) => tiles.map((t) => { const r = t.getBoundingClientRect(); "
        "return [r.top, r.bottom, r.left, r.right, t.scrollHeight <= t.clientHeight]; })")
    for top, bottom, left, right, fits in boxes:
        assert top >= 0 and bottom <= WALL_SCREEN["height"] and left >= 0 and right <= WALL_SCREEN["width"]
        assert fits, "a tile's text overflows it"
    columns = {round(left) for _, _, left, _, _ in boxes}
    assert len(columns) == 10
    number_px = page.locator('#tiles [data-seat="01"] .tile-seat').evaluate(
        "(n) => parseFloat(getComputedStyle(n).fontSize)")
    assert number_px >= MIN_TILE_NUMBER_PX
    font = page.evaluate("getComputedStyle(document.documentElement).fontFamily")
    assert font.startswith('"WenQuanYi Micro Hei", "Noto Sans CJK SC"')


@pytest.mark.parametrize("path", ["/", "/wallboard", "/callbacks", "/operator"])
def test_screenshots_at_1920x1080(web: WebApp, pages: Pages, path: str) -> None:
    fill_the_hall(web)
    page = pages.open(path, token=web.token(Role.ADMIN, "07"), viewport=WALL_SCREEN)
    ready(page, path)
    if path == "/wallboard":
        show_seats(web)
        expect(page.locator('#tiles [data-state="paused"]')).not_to_have_count(0)
    if path == "/operator":
        web.publish_seat("01", state=SeatState.ON_CALL, state_since=datetime.now(UTC), queues=("hotline",),
                         call=SeatCall(citizen_number="13912340000", citizen_name="钱先生",
                                       linkedid="1764290000.17", seat_channel=None, caller_channel=None,
                                       queue="hotline", offered_at=None,
                                       started_at=datetime.now(UTC) - timedelta(seconds=95),
                                       queue_wait_seconds=8, three_way=False, ended_at=None))
        expect(page.locator("#call-name")).to_have_text("钱先生")
    name = "index" if path == "/" else path.strip("/")
    screenshot(page, name)


def test_keyboard_focus_is_visible(web: WebApp, pages: Pages) -> None:
    page = pages.open("/callbacks", token=web.token(Role.OPERATOR, "07"))
    tab_to(page, "#claim-next")
    outline = page.evaluate("(() => { const s = getComputedStyle(document.activeElement); "
                            "return [s.outlineStyle, parseFloat(s.outlineWidth)]; })()")
    assert outline[0] == "solid" and outline[1] >= 2

"""The wallboard: fifty tiles from the hall's configuration, live `seat` events applied at once,
and a full refetch after `resync` or a dropped stream."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from hotline.auth import Role
from seat_manager.state import SeatCall, SeatState
from tests.web.conftest import Pages, WebApp, wait_for

SEAT_EVENT_DEADLINE_MS = 1000  # the task: a tile follows its `seat` event well within 1 s


def tile(page: Page, seat_id: str) -> Locator:
    return page.locator(f'#tiles [data-seat="{seat_id}"]')


def open_wallboard(web: WebApp, pages: Pages) -> Page:
    page = pages.open("/wallboard", token=web.token(Role.MONITOR, "wall-1"))
    expect(page.locator("#connection")).to_have_attribute("data-connection", "live")
    return page


def a_call(now: datetime) -> SeatCall:
    return SeatCall(citizen_number="13800138000", citizen_name="张三", linkedid="1700000000.42",
                    seat_channel="PJSIP/1007-00000001", caller_channel="PJSIP/trunk-00000002",
                    queue="hotline", offered_at=now, started_at=now, queue_wait_seconds=12,
                    three_way=False, ended_at=None)


def test_fifty_tiles_in_seat_order_all_offline_without_a_pbx(web: WebApp, pages: Pages) -> None:
    page = open_wallboard(web, pages)
    seat_ids = [seat.seat_id for seat in web.config.seats]
    assert len(seat_ids) == 50
    expect(page.locator("#tiles [data-seat]")).to_have_count(50)
    shown = page.locator("#tiles [data-seat]").evaluate_all("(tiles) => tiles.map((t) => t.dataset.seat)")
    assert shown == sorted(seat_ids)
    states = page.locator("#tiles [data-seat]").evaluate_all("(tiles) => tiles.map((t) => t.dataset.state)")
    assert set(states) == {"offline"}
    expect(tile(page, "07")).to_contain_text("离线")
    expect(page.locator('#legend [data-state="offline"]')).to_have_text("离线 50")
    expect(page.locator("#halls")).to_be_hidden()  # one PBX: no per-hall rows
    expect(page.locator("#tiles > [data-seat]")).to_have_count(50)  # and one list, under no heading
    expect(page.locator("#tiles .tile-hall")).to_have_count(0)
    expect(page.locator("#tiles")).not_to_have_class(re.compile(r"\bgrouped\b"))


def test_the_clock_shows_the_halls_time_on_a_screen_set_to_another_zone(web: WebApp, pages: Pages) -> None:
    before = datetime.now(web.config.hall.tz)
    page = pages.open("/wallboard", token=web.token(Role.MONITOR, "wall-utc"), timezone_id="UTC")
    expect(page.locator("#connection")).to_have_attribute("data-connection", "live")
    after = datetime.now(web.config.hall.tz)
    assert before.utcoffset() != timedelta(0), "the test needs a hall zone other than UTC"
    hall_minutes = {before.strftime("%H:%M"), (after + timedelta(seconds=2)).strftime("%H:%M")}
    expect(page.locator("#clock")).to_have_text(re.compile(f"^({'|'.join(hall_minutes)})$"))


def test_a_seat_event_turns_its_tile_at_once_with_timer_and_pause_reason(web: WebApp,
                                                                         pages: Pages) -> None:
    page = open_wallboard(web, pages)
    expect(page.locator("#tiles [data-seat]")).to_have_count(50)
    now = datetime.now(UTC)
    web.publish_seat("07", state=SeatState.ON_CALL, state_since=now - timedelta(seconds=75),
                     queues=("hotline",), call=a_call(now))
    page.wait_for_selector('#tiles [data-seat="07"][data-state="on_call"]',
                           timeout=SEAT_EVENT_DEADLINE_MS)
    expect(tile(page, "07").locator(".tile-state")).to_have_text("通话中")
    expect(tile(page, "07").locator(".tile-timer")).to_have_text(re.compile(r"^01:1\d$"))
    expect(tile(page, "07")).to_have_attribute("aria-label", "07号座席 通话中")

    web.publish_seat("08", state=SeatState.PAUSED, state_since=now, queues=("hotline",), paused=True,
                     pause_reason="午休", paused_since=now)
    page.wait_for_selector('#tiles [data-seat="08"][data-state="paused"]',
                           timeout=SEAT_EVENT_DEADLINE_MS)
    expect(tile(page, "08").locator(".tile-state")).to_have_text("小休")
    expect(tile(page, "08").locator(".tile-note")).to_have_text("午休")
    expect(page.locator('#legend [data-state="on_call"]')).to_have_text("通话中 1")
    expect(page.locator('#legend [data-state="offline"]')).to_have_text("离线 48")
    # Nothing else moved.
    expect(page.locator('#tiles [data-state="offline"]')).to_have_count(48)


def test_resync_refetches_the_whole_picture(web: WebApp, pages: Pages) -> None:
    page = open_wallboard(web, pages)
    web.publish_seat("07", state=SeatState.AVAILABLE, state_since=datetime.now(UTC),
                     queues=("hotline",))
    expect(tile(page, "07")).to_have_attribute("data-state", "available")
    # The hall itself still has 07 offline: after `resync` the page must show what GET says.
    web.feed.publish("resync")
    expect(tile(page, "07")).to_have_attribute("data-state", "offline")


def test_a_stale_picture_is_marked_on_every_tile_and_said_in_a_banner(web: WebApp,
                                                                      pages: Pages) -> None:
    """Issue 13: during an AMI cut the wall showed the old picture as if it were live."""
    assert web.hall is not None
    page = open_wallboard(web, pages)
    expect(page.locator("#tiles [data-seat]")).to_have_count(50)
    expect(page.locator("#stale")).to_be_hidden()
    web.hall.board.mark_stale(datetime.now(UTC) - timedelta(seconds=65))
    web.feed.publish("resync")  # what the hall's publisher sends when the link drops
    expect(page.locator("#stale")).to_be_visible()
    expect(page.locator("#stale")).to_have_text(
        re.compile(r"^与交换机的连接已中断 01:0\d：座席状态停在 .+，可能已过时$"))
    expect(page.locator("#tiles .tile.stale")).to_have_count(50)
    expect(tile(page, "07")).to_have_attribute("aria-label", "07号座席 离线（可能已过时）")
    web.hall.board.mark_fresh()
    web.feed.publish("resync")
    expect(page.locator("#stale")).to_be_hidden()
    expect(page.locator("#tiles .tile.stale")).to_have_count(0)


@pytest.mark.parametrize("clean", [False, True], ids=["link-broken", "server-closed"])
def test_a_dropped_stream_reconnects_refetches_and_applies_new_events(web: WebApp, pages: Pages,
                                                                      clean: bool) -> None:
    page = open_wallboard(web, pages)
    web.publish_seat("07", state=SeatState.RINGING, state_since=datetime.now(UTC))
    expect(tile(page, "07")).to_have_attribute("data-state", "ringing")
    assert web.asgi.opened == 1

    assert web.asgi.cut(clean=clean) == 1
    expect(page.locator("#connection")).not_to_have_attribute("data-connection", "live")
    wait_for(lambda: web.asgi.opened == 2 and web.asgi.open_streams == 1, 15, "the page to reconnect")
    expect(page.locator("#connection")).to_have_attribute("data-connection", "live")
    expect(tile(page, "07")).to_have_attribute("data-state", "offline")  # refetched on reconnect

    web.publish_seat("09", state=SeatState.WRAP_UP, state_since=datetime.now(UTC),
                     wrapup_until=datetime.now(UTC) + timedelta(seconds=10))
    page.wait_for_selector('#tiles [data-seat="09"][data-state="wrap_up"]',
                           timeout=SEAT_EVENT_DEADLINE_MS)
    expect(tile(page, "09").locator(".tile-state")).to_have_text("话后整理")

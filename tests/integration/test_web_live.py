"""The web pages in headless Chromium against a real `hotline serve` and the sandbox Asterisk.

One PBX and one service for the module; each test opens its pages in a fresh browser and uses
real baresip phones: a seat answering a citizen's call turns its wallboard tile to on-call within
a second of the answer; a callback is claimed, dialled through the PBX (seat phone, then the
citizen behind the trunk) and its outcome recorded from the callback console; the operator panel
starts a three-way call with a department's expert, and the wallboard notes it on the seat's tile.
The browser is tests/web/conftest.py's (Debian's Chromium), launched here through Playwright's
async API because the phones are async.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect
from playwright.async_api import Error as PlaywrightError
from sqlalchemy import select

from hotline.auth import Role
from hotline.config import HotlineConfig, load_config
from hotline.db import make_engine, make_session_factory
from hotline.phones import BaresipPhone
from hotline.phones.baresip import free_port
from telephony.ami import AmiClient
from telephony.ami.errors import AmiActionError
from telephony.monitor import snapshot
from tests.hall_pbx import REPO
from tests.integration.citizens import citizen_endpoint, epoch_at
from tests.integration.harness import (
    OPEN_MOMENT,
    OUTSIDE_HOST,
    Api,
    call_hotline,
    enqueue_callback_row,
    expert_phone,
    harness_client,
    outside_line,
    seat_phone,
    trunk_reachable,
    wait_for,
)
from tests.integration.live_service import ENTRY_S, LiveService, live_service
from tests.web.conftest import CHROMIUM, WALL_SCREEN, chromium_launch_options
from voicemail.callbacks.models import Callback, CallbackAttempt

pytestmark = pytest.mark.pbx

SEAT = "01"
SEAT_TOKEN = SEAT  # an operator token named like the seat acts for that seat
CITIZEN = "13912345678"
CITIZEN_NAME = "张三丰"
WRAPUP_S = 2
TILE_LATENCY_LIMIT_S = 1.0  # the issue: on-call on the wallboard within 1 s of the answer
PAGE_WAIT_MS = 10_000
STAMP_RE = re.compile(r"^\d+$")
CALLBACK_NUMBER = "13800138000"
DEPARTMENT = "住房和城乡建设局"
EXPERT_EXTENSION = "2001"  # 王建国, first of the department's experts
ALWAYS = "00:00-24:00"
RING_S = 10
CALL_TIMEOUT_S = 15.0
PHONE_CITIZEN = ("webcitizen", "13712345678", "李四")  # a SIP citizen, for the three-way call
PHONE_CITIZEN_PASSWORD = "webcitizen-secret"
THREE_WAY_UNSEEN = ("the wallboard tile should note 三方通话 once the call is three-way (GET /api/seats "
                    "says three_way: true); the wallboard learns it only from a `seat` event")
NO_CONFERENCES = "No active conferences"  # how Asterisk answers ConfbridgeListRooms with no room


@dataclass
class Web:
    live: LiveService

    @property
    def config(self) -> HotlineConfig:
        return self.live.pbx.config


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    trunk_port = free_port(span=2)  # baresip also takes TLS on port+1
    overrides = {
        "queue.wrapup_seconds": str(WRAPUP_S),
        "trunk.host": OUTSIDE_HOST, "trunk.port": str(trunk_port),
        "threeway.expert_ring_seconds": str(RING_S),
        "expert 王建国.duty": ALWAYS, "expert 李明.duty": ALWAYS,
    }
    base = load_config(REPO / "hotline.conf")
    endpoint, number, name = PHONE_CITIZEN
    citizen = citizen_endpoint(endpoint, number, name, epoch_at(OPEN_MOMENT, base.hall.tz),
                               password=PHONE_CITIZEN_PASSWORD)
    with live_service("web", tmp_path_factory.mktemp("web"), overrides,
                      named_tokens={SEAT_TOKEN: Role.OPERATOR}, pjsip_local=citizen,
                      extra_secrets=f"[trunk]\npassword = {secrets.token_hex(8)}") as running:
        yield Web(running)


@dataclass
class Browsing:
    browser: Browser
    base_url: str
    errors: list[str] = field(default_factory=list)

    async def open(self, path: str, token: str) -> Page:
        """`path` with the token handed over in the URL fragment, as a wall screen gets it."""
        context = await self.browser.new_context(viewport=WALL_SCREEN, locale="zh-CN",
                                                 timezone_id="Asia/Shanghai")
        page = await context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{path}: {error}"))
        page.set_default_timeout(PAGE_WAIT_MS)
        await page.goto(f"{self.base_url}{path}#token={token}")
        await expect(page.locator("#connection")).to_have_attribute("data-connection", "live")
        return page


@pytest.fixture
async def browsing(web: Web) -> AsyncIterator[Browsing]:
    """Debian's Chromium; a browser that cannot start fails the test with the reason."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(**chromium_launch_options())
        except PlaywrightError as exc:
            pytest.fail(f"Chromium could not start: {exc}")
        opened = Browsing(browser, web.live.base_url)
        try:
            yield opened
        finally:
            await browser.close()
    assert opened.errors == [], f"uncaught script errors: {opened.errors}"


@pytest.fixture
async def ami(web: Web) -> AsyncIterator[AmiClient]:
    """The test's own AMI session; the PBX is left with no calls and no logged-in seat."""
    web.live.pbx.reset()
    client = await harness_client(web.config)
    try:
        yield client
    finally:
        await client.stop()
        web.live.pbx.reset()


async def login(api: Api, seat_id: str = SEAT) -> None:
    await api.wait_state(seat_id, "logged_out")
    response = await api.post(f"/api/seats/{seat_id}/login")
    assert response.status_code == 200, response.text


# ----- wallboard ----------------------------------------------------------------------------------

WATCH_TILE = """(seat) => {
  // Stamp the wall-clock moment the seat's tile first shows on_call (tiles may be repainted) on
  // <html data-on-call-at>: read back by a locator, since the page's CSP forbids polling by eval.
  const root = document.documentElement;
  delete root.dataset.onCallAt;
  const check = () => {
    const tile = document.querySelector(`#tiles [data-seat="${seat}"]`);
    const onCall = tile && tile.dataset.state === 'on_call';
    if (onCall && !root.dataset.onCallAt) root.dataset.onCallAt = String(Date.now());
  };
  new MutationObserver(check).observe(document.querySelector('#tiles'),
    {subtree: true, childList: true, attributes: true, attributeFilter: ['data-state']});
  check();
}"""


async def test_answered_call_turns_the_wallboard_tile_on_call_within_a_second(
        web: Web, browsing: Browsing, ami: AmiClient, tmp_path: Path,
        record_property: Callable[[str, object], None]) -> None:
    operator = web.live.api(Role.OPERATOR)
    page = await browsing.open("/wallboard", web.live.token(Role.MONITOR))
    tile = page.locator(f'#tiles [data-seat="{SEAT}"]')
    await expect(page.locator("#tiles [data-seat]")).to_have_count(len(web.config.seats))
    await expect(tile).to_have_attribute("data-state", "offline")

    phone = seat_phone(web.config, SEAT, tmp_path / "phones", auto_answer=False)
    async with phone:
        await login(operator)
        await expect(tile).to_have_attribute("data-state", "available")
        await call_hotline(ami, web.config, CITIZEN, CITIZEN_NAME)
        await expect(tile).to_have_attribute("data-state", "ringing", timeout=ENTRY_S * 1000)
        await expect(page.locator("#fig-waiting")).to_have_text("1")
        await phone.wait_for("CALL_INCOMING", timeout=10)
        await page.evaluate(WATCH_TILE, SEAT)

        answered_at = time.time()
        await phone.answer()
        stamp = page.locator("html")
        await expect(stamp).to_have_attribute("data-on-call-at", STAMP_RE, timeout=PAGE_WAIT_MS)
        shown_at = int(await stamp.get_attribute("data-on-call-at") or 0) / 1000
        seat = await operator.wait_state(SEAT, "on_call")
        latency = shown_at - answered_at
        record_property("wallboard_answer_to_tile_ms", round(latency * 1000))
        print(f"\nwallboard: baresip answer -> tile on_call in {latency * 1000:.0f} ms")
        assert latency <= TILE_LATENCY_LIMIT_S, f"the tile turned on_call {latency:.3f} s after the answer"
        await expect(tile).to_have_attribute("aria-label", f"{SEAT}号座席 通话中")
        assert seat["call"]["citizen_number"] == CITIZEN
        await expect(page.locator("#fig-waiting")).to_have_text("0")

        await phone.hangup()
        await expect(tile).to_have_attribute("data-state", "wrap_up")
        await expect(tile).to_have_attribute("data-state", "available", timeout=(WRAPUP_S + 8) * 1000)
    await expect(tile).to_have_attribute("data-state", "offline")


# ----- callback console ---------------------------------------------------------------------------

def stored_callback(web: Web, callback_id: int) -> tuple[Callback, list[CallbackAttempt]]:
    """The callback's row and its attempts as the service stored them."""
    engine = make_engine(web.config.database.url)
    try:
        with make_session_factory(engine)() as session:
            row = session.get(Callback, callback_id)
            assert row is not None
            attempts = list(session.scalars(select(CallbackAttempt).where(
                CallbackAttempt.callback_id == callback_id).order_by(CallbackAttempt.attempt)))
            session.expunge_all()
            return row, attempts
    finally:
        engine.dispose()


async def test_callback_console_claims_dials_and_records_the_outcome(
        web: Web, browsing: Browsing, ami: AmiClient, tmp_path: Path) -> None:
    callback_id = enqueue_callback_row(web.config.database.url, CALLBACK_NUMBER, "console")
    operator = web.live.api(SEAT_TOKEN)
    async with (seat_phone(web.config, SEAT, tmp_path / "phones", auto_answer=True) as seat,
                outside_line(web.config, CALLBACK_NUMBER, tmp_path, auto_answer=True) as citizen):
        await operator.wait_state(SEAT, "logged_out")
        await trunk_reachable(web.live.pbx)
        page = await browsing.open("/callbacks", web.live.token(SEAT_TOKEN))
        await expect(page.locator("#my-seat")).to_have_value(SEAT)

        item = page.locator(f'#queue .cb-item[data-id="{callback_id}"]')
        await expect(item).to_contain_text(CALLBACK_NUMBER)
        await item.click()
        await expect(page.locator("#detail-title")).to_have_text(f"回拨 #{callback_id}")
        await expect(page.locator("#d-transcript")).to_have_text("家里停水三天了")
        await page.get_by_role("button", name="认领", exact=True).click()
        await expect(page.locator("#d-claim")).to_contain_text(f"{SEAT_TOKEN}（我）")
        claimed = await operator.get(f"/api/callbacks/{callback_id}")
        assert claimed["state"] == "claimed" and claimed["claimed_by"] == SEAT_TOKEN

        await page.get_by_role("button", name="从我的座席拨打").click()
        seat_leg = await seat.wait_for("CALL_ESTABLISHED", CALL_TIMEOUT_S)
        assert seat_leg.direction == "incoming"
        citizen_leg = await citizen.wait_for("CALL_ESTABLISHED", CALL_TIMEOUT_S)
        assert citizen_leg.raw["accountaor"].startswith(f"sip:{CALLBACK_NUMBER}@{OUTSIDE_HOST}")

        async def connected() -> dict[str, Any] | None:
            view = await operator.seat(SEAT)
            call = view.get("call") or {}
            return view if view["state"] == "on_call" and call.get("citizen_number") == CALLBACK_NUMBER \
                else None

        await wait_for(connected, CALL_TIMEOUT_S, f"seat {SEAT} on_call with {CALLBACK_NUMBER}")
        await citizen.hangup()
        await seat.wait_for("CALL_CLOSED", CALL_TIMEOUT_S)

        await page.get_by_label("结果", exact=True).select_option("reached_resolved")
        await page.get_by_label("备注", exact=True).fill("已回访，问题已解决")
        await page.get_by_role("button", name="记录结果").click()
        await expect(page.locator("#message")).to_contain_text(f"已记录回拨 #{callback_id}")
        await expect(page.locator("#d-state")).to_have_text("已结束（已解决）")
        await expect(page.locator("#d-history tr")).to_have_count(1)
        await expect(page.locator("#d-history tr")).to_contain_text("已联系，问题已解决")

    row, attempts = stored_callback(web, callback_id)
    assert (row.state, row.resolution, row.attempts, row.claimed_by) == ("closed", "resolved", 1, None)
    assert row.closed_at is not None
    [attempt] = attempts
    assert (attempt.attempt, attempt.staff, attempt.seat_id, attempt.outcome, attempt.note) == (
        1, SEAT_TOKEN, SEAT, "reached_resolved", "已回访，问题已解决")
    assert attempt.dialed_at is not None


# ----- operator panel -----------------------------------------------------------------------------

def phone_citizen(web: Web, work: Path) -> BaresipPhone:
    endpoint = PHONE_CITIZEN[0]
    return BaresipPhone(endpoint, server_host=web.config.sip.bind, server_port=web.config.sip.port,
                        username=endpoint, password=PHONE_CITIZEN_PASSWORD, work_dir=work / "phones")


async def conference_rooms(ami: AmiClient) -> list[dict[str, str]]:
    """Asterisk's own list of ConfBridge rooms (conference name, number of parties)."""
    try:
        events = await snapshot(ami, "ConfbridgeListRooms")
    except AmiActionError as exc:
        if NO_CONFERENCES in str(exc):
            return []
        raise
    return [dict(e) for e in events if e.get("Event") == "ConfbridgeListRooms"]


async def test_operator_panel_starts_a_three_way_call(
        web: Web, browsing: Browsing, ami: AmiClient, tmp_path: Path) -> None:
    operator = web.live.api(SEAT_TOKEN)
    _, number, name = PHONE_CITIZEN
    async with (seat_phone(web.config, SEAT, tmp_path / "phones", auto_answer=True) as seat,
                expert_phone(web.config, EXPERT_EXTENSION, tmp_path / "phones", auto_answer=True) as expert,
                phone_citizen(web, tmp_path) as citizen):
        await operator.wait_state(SEAT, "logged_out")
        wall = await browsing.open("/wallboard", web.live.token(Role.MONITOR))
        page = await browsing.open("/operator", web.live.token(SEAT_TOKEN))
        await expect(page.locator("#seat-id")).to_have_text(f"{SEAT} 号")
        chip = page.locator("#seat-state")
        await expect(chip).to_have_attribute("data-state", "logged_out")
        await page.get_by_role("button", name="签入").click()
        await expect(chip).to_have_attribute("data-state", "available")
        assert (await operator.seat(SEAT))["logged_in"] is True

        await citizen.dial("12345")
        await expect(chip).to_have_attribute("data-state", "on_call", timeout=ENTRY_S * 1000)
        await seat.wait_for("CALL_ESTABLISHED", CALL_TIMEOUT_S)
        await expect(page.locator("#call-number")).to_have_text(number)
        await expect(page.locator("#call-name")).to_have_text(name)
        linkedid = (await operator.seat(SEAT))["call"]["linkedid"]

        invite = page.get_by_role("button", name=f"邀请{DEPARTMENT}的值班专家加入通话")
        await expect(invite).to_be_enabled()
        await invite.click()
        expert_leg = await expert.wait_for("CALL_ESTABLISHED", RING_S + CALL_TIMEOUT_S)
        assert expert_leg.direction == "incoming"
        await expect(page.locator("#session-state")).to_have_text("三方通话中", timeout=(RING_S + 20) * 1000)
        await expect(page.locator("#call-threeway")).to_have_text("是")
        note = wall.locator(f'#tiles [data-seat="{SEAT}"] .tile-note')
        await expect(note, THREE_WAY_UNSEEN).to_have_text("三方通话")
        await expect(page.locator("#parties li", has_text="在会议中")).to_have_count(3)

        [session] = [s for s in await operator.get("/api/threeway/sessions")
                     if s["seat_id"] == SEAT and s["state"] == "conference"]
        assert session["linkedid"] == linkedid and session["department"] == DEPARTMENT
        talking = sorted((p["role"], p["name"]) for p in session["participants"]
                         if p["state"] == "in_conference")
        assert [role for role, _ in talking] == ["citizen", "expert", "operator"]
        assert ("expert", "王建国") in talking

        async def three_in_a_room() -> list[dict[str, str]] | None:
            rooms = await conference_rooms(ami)
            return rooms if [r.get("Parties") for r in rooms] == ["3"] else None

        await wait_for(three_in_a_room, what="Asterisk to show one conference with three parties")
        calls = await operator.get("/api/calls")
        assert [b["party_count"] for b in calls["bridges"] if b["conference"]] == [3]
        status = await operator.get("/api/status")
        assert status["calls"]["three_way"] == 1, status["calls"]  # one conference, one three-way call

        await page.get_by_role("button", name="全部挂断").click()
        await expect(page.locator("#session-state")).to_contain_text("已结束")
        await expert.wait_for("CALL_CLOSED", CALL_TIMEOUT_S)
        await citizen.wait_for("CALL_CLOSED", CALL_TIMEOUT_S)

        async def no_rooms() -> bool:
            return not await conference_rooms(ami)

        await wait_for(no_rooms, what="the conference to be gone")

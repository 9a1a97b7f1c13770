"""Browser tests of the web pages: Debian's headless Chromium driven by Playwright, against the
app served by uvicorn in a background thread on a free loopback port.

The building blocks are plain functions and classes so that other browser tests (the live tests
against the sandbox PBX) can reuse them: `chromium_launch_options()` / `launch_chromium()`,
`serve_app()` (tests.live_server), `StreamCutter` (drops open event streams on demand), and
`build_web_app()` (the real application without the AMI bridge, optionally with an unstarted
hall so that the seat routes answer with the hall's fifty seats).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from hotline.api import API_PREFIX
from hotline.auth import Role, add_token
from hotline.config import HotlineConfig, load_config
from hotline.db import session_scope, upgrade_database
from hotline.live import LiveFeed
from hotline.wiring import attach_bridge, build_app
from telephony.hall import Hall
from telephony.hall_feed import attach_hall
from tests.live_server import LiveServer

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run")
EVENTS_PATH = f"{API_PREFIX}/events"
WALL_SCREEN = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}
SHOTS_DIR = Path("/tmp/web-shots")
WAIT_MS = 15_000  # how long a page may take to show something on a loaded test machine
TOKEN_KEY = "hotline.token"


# Chromium -----------------------------------------------------------------------------------
def chromium_launch_options() -> dict[str, Any]:
    """Keyword arguments for `playwright.chromium.launch` (sync or async API)."""
    return {"executable_path": CHROMIUM, "args": list(CHROMIUM_ARGS), "headless": True}


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium; a browser that cannot start fails the test with the reason."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package")
    try:
        return playwright.chromium.launch(**chromium_launch_options())
    except PlaywrightError as exc:
        pytest.fail(f"Chromium could not start: {exc}")


expect.set_options(timeout=WAIT_MS)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        try:
            yield launched
        finally:
            launched.close()


# The app in a background thread -------------------------------------------------------------
@contextlib.contextmanager
def serve_app(app: ASGIApp) -> Iterator[str]:
    """Serve `app` for the duration of the block; yields its base URL."""
    server = LiveServer(app)
    server.start()
    try:
        yield server.base_url
    finally:
        server.stop()


class StreamCutter:
    """ASGI wrapper that can end every open event stream at once: abruptly, as a broken link
    would (the response is left unfinished), or cleanly, as a restarting server would."""

    def __init__(self, app: ASGIApp, path: str = EVENTS_PATH) -> None:
        self.app = app
        self.path = path
        self.opened = 0
        self._open: dict[asyncio.Event, tuple[asyncio.AbstractEventLoop, list[bool]]] = {}
        self._lock = threading.Lock()

    @property
    def open_streams(self) -> int:
        with self._lock:
            return len(self._open)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        stop = asyncio.Event()
        clean: list[bool] = []
        with self._lock:
            self._open[stop] = (asyncio.get_running_loop(), clean)
            self.opened += 1
        served = asyncio.ensure_future(self.app(scope, receive, send))
        cut = asyncio.ensure_future(stop.wait())
        try:
            done, _ = await asyncio.wait({served, cut}, return_when=asyncio.FIRST_COMPLETED)
            if served in done:
                served.result()
                return
            served.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await served
            if clean:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            cut.cancel()
            with self._lock:
                self._open.pop(stop, None)

    def cut(self, *, clean: bool = False) -> int:
        """End the open streams; returns how many there were."""
        with self._lock:
            entries = list(self._open.items())
        for stop, (loop, mode) in entries:
            if clean:
                mode.append(True)
            loop.call_soon_threadsafe(stop.set)
        return len(entries)


# The application without a PBX --------------------------------------------------------------
def web_config(tmp_path: Path) -> HotlineConfig:
    """hotline.conf with its database and voicemail archive in `tmp_path`, migrated."""
    archive = tmp_path / "archive"
    archive.mkdir(exist_ok=True)
    config = load_config(REPO / "hotline.conf", overrides={
        "database.url": f"sqlite:///{tmp_path}/web.db", "voicemail.archive": str(archive)})
    upgrade_database(config)
    return config


@dataclass
class WebApp:
    """The application as the pages meet it, and the handles a test drives it with."""

    app: FastAPI
    config: HotlineConfig
    sessions: sessionmaker[Session]
    feed: LiveFeed
    hall: Hall | None
    asgi: StreamCutter
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, role: Role, name: str, *, seat: str | None = None, team_lead: bool = False) -> str:
        """A new token straight through the service; kept under `name`."""
        with session_scope(self.sessions) as session:
            self.tokens[name] = add_token(session, name, role, seat=seat, team_lead=team_lead)
        return self.tokens[name]

    def publish_seat(self, seat_id: str, **changes: Any) -> None:
        """Put the hall's seat, with `changes` applied, on the live feed (as a `seat` event)."""
        assert self.hall is not None, "built without a hall"
        view = self.hall.board.seat(seat_id)
        assert view is not None, f"no seat {seat_id}"
        self.feed.publish("seat", dataclasses.replace(view, **changes))


def build_web_app(config: HotlineConfig, *, with_hall: bool = True) -> WebApp:
    """`build_app(config, bridge=False)`; `with_hall` attaches an unstarted hall (it never
    connects to Asterisk), so the seat, queue and three-way routes answer with the hall's
    configuration and all seats offline."""
    app = build_app(config, bridge=False)
    feed: LiveFeed = app.state.live
    hall = None
    if with_hall:
        hall = Hall(config, None)
        hall.board.mark_fresh()  # shown as a live picture unless a test marks it stale
        attach_bridge(app, hall)
        attach_hall(hall, feed)
    return WebApp(app=app, config=config, sessions=app.state.sessionmaker, feed=feed, hall=hall,
                  asgi=StreamCutter(app))


@pytest.fixture
def web(tmp_path: Path) -> Iterator[WebApp]:
    built = build_web_app(web_config(tmp_path))
    try:
        yield built
    finally:
        built.app.state.engine.dispose()


@pytest.fixture
def base_url(web: WebApp) -> Iterator[str]:
    with serve_app(web.asgi) as url:
        yield url


# Pages --------------------------------------------------------------------------------------
@dataclass
class Pages:
    """Opens pages in fresh browser contexts and collects their uncaught script errors."""

    browser: Browser
    base_url: str
    errors: list[str] = field(default_factory=list)

    def open(self, path: str, *, token: str | None = None,
             viewport: dict[str, int] | None = None, timezone_id: str = "Asia/Shanghai") -> Page:
        """`path` with `token` handed over in the URL fragment (never sent to the server);
        `timezone_id` is the browser's own zone."""
        context = self.browser.new_context(viewport=viewport or WALL_SCREEN, locale="zh-CN",
                                           timezone_id=timezone_id)
        context.set_default_timeout(WAIT_MS)
        page = context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{path}: {error}"))
        fragment = f"#token={token}" if token else ""
        page.goto(f"{self.base_url}{path}{fragment}")
        return page

    def stored_token(self, page: Page) -> str | None:
        return page.evaluate(f"localStorage.getItem({json.dumps(TOKEN_KEY)})")


@pytest.fixture
def pages(browser: Browser, base_url: str) -> Iterator[Pages]:
    opened = Pages(browser, base_url)
    yield opened
    for context in browser.contexts:
        context.close()
    assert opened.errors == [], f"uncaught script errors: {opened.errors}"


def screenshot(page: Page, name: str) -> Path:
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    path = SHOTS_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def tab_to(page: Page, selector: str, *, limit: int = 60, backwards: bool = False) -> None:
    """Press Tab until `selector` has the focus (fails after `limit` presses)."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press(key)
    pytest.fail(f"{selector} never got the focus within {limit} presses of {key}")


def api_refusal(base_url: str, token: str, path: str, body: object = None) -> str:
    """The API's message for a POST a page is about to make; it must be refused (a refused
    request changes nothing, so asking first does not disturb the test)."""
    response = httpx.post(f"{base_url}{path}", json=body, headers={"Authorization": f"Bearer {token}"},
                          timeout=WAIT_MS / 1000)
    assert response.status_code >= 400, response.text
    return response.json()["error"]["message"]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)

"""The token form, the `#token=` fragment, and what a 401 does to an open page."""

from __future__ import annotations

from playwright.sync_api import Request, expect

from hotline.auth import Role, revoke_token
from hotline.db import session_scope
from tests.web.conftest import TOKEN_KEY, Pages, WebApp

INVALID_TOKEN_MESSAGE = "API 令牌不存在或已被吊销"  # hotline.auth.errors


def test_without_a_token_the_page_asks_for_one_and_checks_it(web: WebApp, pages: Pages) -> None:
    token = web.token(Role.MONITOR, "wall-screen")
    page = pages.open("/wallboard")
    gate = page.locator("#token-gate")
    expect(gate).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()
    expect(page.locator("#token-input")).to_be_focused()

    page.get_by_label("API 令牌", exact=True).fill("not-a-token")
    page.get_by_role("button", name="进入").click()
    expect(page.locator("#token-message")).to_contain_text(INVALID_TOKEN_MESSAGE)
    assert pages.stored_token(page) is None

    page.get_by_label("API 令牌", exact=True).fill(token)
    page.keyboard.press("Enter")
    expect(page.locator("#tiles [data-seat]")).to_have_count(50)
    expect(gate).to_be_hidden()
    assert pages.stored_token(page) == token


def test_a_fragment_token_is_kept_and_leaves_the_address_bar_without_reaching_the_server(
        web: WebApp, pages: Pages) -> None:
    token = web.token(Role.MONITOR, "wall-7")
    sent: list[Request] = []
    context = pages.browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.on("request", lambda request: sent.append(request))
    page.goto(f"{pages.base_url}/wallboard#token={token}")
    expect(page.locator("#tiles [data-seat]")).to_have_count(50)
    assert "#token" not in page.url and token not in page.url
    assert page.evaluate(f"localStorage.getItem('{TOKEN_KEY}')") == token
    api_calls = [r for r in sent if "/api/" in r.url]
    assert api_calls, "the page made no API request"
    for request in sent:
        assert token not in request.url
    for request in api_calls:
        assert request.headers.get("authorization") == f"Bearer {token}"


def test_a_revoked_token_sends_the_user_back_to_the_form_with_the_message(web: WebApp,
                                                                          pages: Pages) -> None:
    token = web.token(Role.OPERATOR, "07")
    page = pages.open("/callbacks", token=token)
    expect(page.locator("#whoami")).to_have_text("07（operator）")
    with session_scope(web.sessions) as session:
        revoke_token(session, "07")
    page.keyboard.press("r")  # refresh (the page may already have met the 401 on its own)
    expect(page.locator("#token-gate")).to_be_visible()
    expect(page.locator("#app")).to_be_hidden()
    expect(page.locator("#token-message")).to_contain_text(INVALID_TOKEN_MESSAGE)
    assert pages.stored_token(page) is None
    # A request still on its way goes out without the token; its 401 keeps the first message.
    late = page.evaluate("""async () => {
      const api = await import('/static/js/api.js');
      try { await api.get('/api/callbacks'); } catch (error) { return error.status; }
      return 200;
    }""")
    assert late == 401
    expect(page.locator("#token-message")).to_contain_text(INVALID_TOKEN_MESSAGE)

    fresh = web.token(Role.OPERATOR, "08")
    page.get_by_label("API 令牌", exact=True).fill(fresh)
    page.get_by_role("button", name="进入").click()
    expect(page.locator("#whoami")).to_have_text("08（operator）")
    expect(page.locator("#my-seat")).to_have_value("08")


def test_changing_the_token_forgets_the_stored_one(web: WebApp, pages: Pages) -> None:
    page = pages.open("/operator", token=web.token(Role.ADMIN, "supervisor"))
    expect(page.locator("#whoami")).to_have_text("supervisor（admin）")
    page.get_by_role("button", name="更换令牌").click()
    expect(page.locator("#token-gate")).to_be_visible()
    assert pages.stored_token(page) is None

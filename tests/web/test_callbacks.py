"""The callback console end to end on the real database: listen, claim, record the outcome (by
mouse and by keyboard only), refusals shown with the API's own message, live refresh."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from hotline.auth import Role
from tests.web.conftest import Pages, WebApp, api_refusal, tab_to
from tests.web.data import AUDIO_SECONDS, Queued, add_callback, attempts, callback_row


def item(page: Page, queued: Queued) -> Locator:
    return page.locator(f'#queue .cb-item[data-id="{queued.callback_id}"]')


def test_listen_claim_and_record_a_transfer(web: WebApp, pages: Pages) -> None:
    queued = add_callback(web.sessions, web.config.voicemail.archive, number="13912345678",
                          name="李女士", transcript="小区停水三天了，请尽快处理", priority="urgent")
    page = pages.open("/callbacks", token=web.token(Role.OPERATOR, "07"))
    expect(page.locator("#my-seat")).to_have_value("07")
    entry = item(page, queued)
    expect(entry).to_contain_text("13912345678")
    expect(entry).to_contain_text("紧急")
    expect(entry).to_contain_text("待回拨")

    entry.click()
    expect(page.locator("#detail-title")).to_have_text(f"回拨 #{queued.callback_id}")
    expect(page.locator("#d-number")).to_have_text("13912345678")
    expect(page.locator("#d-name")).to_have_text("李女士")
    expect(page.locator("#d-transcript")).to_have_text("小区停水三天了，请尽快处理")
    expect(page.locator("#d-reasons")).to_have_text("有人声；建议转办：供水集团（停水）")  # never the codes

    page.get_by_role("button", name="收听留言").click()
    player = page.locator("#player")
    expect(player).to_be_visible()
    assert player.evaluate("(a) => a.src").startswith("blob:")
    page.wait_for_function("() => document.querySelector('#player').readyState >= 1")
    assert player.evaluate("(a) => a.duration") == pytest.approx(AUDIO_SECONDS, abs=0.1)

    page.get_by_role("button", name="认领", exact=True).click()
    expect(page.locator("#d-state")).to_have_text("已认领")
    expect(page.locator("#d-claim")).to_contain_text("07（我）")
    expect(page.locator("#outcome")).to_be_focused()
    assert callback_row(web.sessions, queued.callback_id).claimed_by == "07"

    page.locator("#outcome").select_option("reached_transferred")
    expect(page.locator("#outcome-department")).to_be_enabled()
    expect(page.locator("#outcome-department")).to_have_value("供水集团")  # triage's suggestion
    page.get_by_label("备注").fill("已转供水集团抢修")
    page.get_by_role("button", name="记录结果").click()
    expect(page.locator("#message")).to_have_text(
        f"已记录回拨 #{queued.callback_id}：已联系，转办部门，回拨已结束（已转办）")
    expect(entry).to_have_count(0)  # closed callbacks leave the queue

    row = callback_row(web.sessions, queued.callback_id)
    assert (row.state, row.resolution, row.transferred_to) == ("closed", "transferred", "供水集团")
    assert attempts(web.sessions, queued.callback_id) == [("07", "reached_transferred", "供水集团")]
    expect(page.locator("#d-history tr")).to_have_count(1)
    expect(page.locator("#d-history")).to_contain_text("已转供水集团抢修")


def test_claim_and_outcome_with_the_keyboard_only(web: WebApp, pages: Pages) -> None:
    first = add_callback(web.sessions, web.config.voicemail.archive, number="13700000001",
                         name=None, transcript="路灯坏了", left_minutes_ago=700)
    second = add_callback(web.sessions, web.config.voicemail.archive, number="13700000002",
                          name="王先生", transcript="噪音扰民", left_minutes_ago=600)
    page = pages.open("/callbacks", token=web.token(Role.OPERATOR, "08"))
    expect(item(page, second)).to_be_visible()

    tab_to(page, "#queue .cb-item")  # the list is one tab stop
    page.keyboard.press("ArrowDown")
    expect(item(page, second)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(item(page, first)).to_be_focused()
    expect(page.locator("#detail-title")).to_have_text(f"回拨 #{first.callback_id}")

    tab_to(page, "#claim")
    page.keyboard.press("Enter")
    expect(page.locator("#outcome")).to_be_focused()
    expect(page.locator("#d-state")).to_have_text("已认领")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#outcome")).to_have_value("reached_resolved")
    page.keyboard.press("Tab")
    expect(page.locator("#outcome-note")).to_be_focused()  # the department field is skipped
    page.keyboard.type("已派人维修")
    page.keyboard.press("Tab")
    expect(page.locator("#outcome-submit")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_contain_text(f"已记录回拨 #{first.callback_id}")
    row = callback_row(web.sessions, first.callback_id)
    assert (row.state, row.resolution) == ("closed", "resolved")

    # N claims the next one; no answer sends it back to the queue for a retry.
    page.keyboard.press("n")
    expect(page.locator("#message")).to_have_text(
        f"已认领回拨 #{second.callback_id}（13700000002）")
    expect(page.locator("#outcome")).to_be_focused()
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    expect(page.locator("#outcome")).to_have_value("no_answer")
    tab_to(page, "#outcome-submit")
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_contain_text("无人接听")
    row = callback_row(web.sessions, second.callback_id)
    assert (row.state, row.attempts, row.claimed_by) == ("queued", 1, None)
    assert attempts(web.sessions, second.callback_id) == [("08", "no_answer", None)]


# Wraps the page's fetch so that the next GET of `path` is answered by the server at once but
# handed to the page only when the test calls `window.heldReply.release()`.
HOLD_NEXT_REPLY = """(path) => {
  const realFetch = window.fetch.bind(window);
  window.heldReply = null;
  window.fetch = (url, init) => {
    const isGet = !init || !init.method || init.method === 'GET';
    if (window.heldReply === null && isGet && String(url) === path) {
      const reply = realFetch(url, init);
      window.heldReply = { release: null };
      return new Promise((resolve) => {
        window.heldReply.release = () => resolve(reply);
      });
    }
    return realFetch(url, init);
  };
}"""


def test_a_refetch_begun_before_the_claim_does_not_undo_it(web: WebApp, pages: Pages) -> None:
    """Live events refetch the detail; one that answers after the claim shows the older state
    and must be dropped (CI saw the outcome list disabled under the staff's hands)."""
    queued = add_callback(web.sessions, web.config.voicemail.archive, number="13500000005",
                          name="周先生", transcript="井盖丢了")
    page = pages.open("/callbacks", token=web.token(Role.OPERATOR, "05"))
    item(page, queued).click()
    expect(page.locator("#d-state")).to_have_text("待回拨")

    page.evaluate(HOLD_NEXT_REPLY, f"/api/callbacks/{queued.callback_id}")
    page.get_by_role("button", name="刷新").click()
    page.wait_for_function("() => window.heldReply && window.heldReply.release !== null")
    page.get_by_role("button", name="认领", exact=True).click()
    expect(page.locator("#d-state")).to_have_text("已认领")
    expect(page.locator("#outcome")).to_be_enabled()

    page.evaluate("() => window.heldReply.release()")
    page.wait_for_timeout(300)  # the stale reply is read and (not) shown within a few ms
    assert page.locator("#d-state").text_content() == "已认领"
    expect(page.locator("#outcome")).to_be_enabled()
    expect(page.locator("#outcome")).to_be_focused()
    expect(page.locator("#claim")).to_be_disabled()


def test_refusals_show_the_api_message_and_change_nothing(web: WebApp, pages: Pages) -> None:
    queued = add_callback(web.sessions, web.config.voicemail.archive, number="13600000000",
                          name="赵女士", transcript="燃气味道很重")
    token = web.token(Role.OPERATOR, "09")
    page = pages.open("/callbacks", token=token)
    item(page, queued).click()
    page.get_by_role("button", name="认领", exact=True).click()
    expect(page.locator("#d-state")).to_have_text("已认领")

    expected = api_refusal(pages.base_url, token, f"/api/callbacks/{queued.callback_id}/outcome",
                           {"outcome": "reached_transferred", "department": "火星局"})
    page.locator("#outcome").select_option("reached_transferred")
    page.locator("#outcome-department").fill("火星局")
    page.get_by_role("button", name="记录结果").click()
    expect(page.locator("#message")).to_have_text(f"记录结果失败：{expected}")
    expect(page.locator("#message")).to_have_class("message error")

    expected = api_refusal(pages.base_url, token, f"/api/callbacks/{queued.callback_id}/dial",
                           {"seat_id": "09"})
    page.get_by_role("button", name="从我的座席拨打").click()
    expect(page.locator("#message")).to_have_text(f"拨打失败：{expected}")

    row = callback_row(web.sessions, queued.callback_id)
    assert (row.state, row.claimed_by, row.attempts) == ("claimed", "09", 0)
    assert attempts(web.sessions, queued.callback_id) == []


def test_the_queue_follows_callbacks_events(web: WebApp, pages: Pages) -> None:
    first = add_callback(web.sessions, web.config.voicemail.archive, number="13500000001",
                         name=None, transcript="第一条")
    page = pages.open("/callbacks", token=web.token(Role.MONITOR, "desk-monitor"))
    expect(item(page, first)).to_contain_text("135****0001")  # a monitor sees masked numbers
    expect(page.locator("#connection")).to_have_attribute("data-connection", "live")
    second = add_callback(web.sessions, web.config.voicemail.archive, number="13500000002",
                          name=None, transcript="第二条")
    web.feed.publish("callbacks", {"reason": "queued"})
    expect(item(page, second)).to_be_visible()
    expect(page.locator("#queue-count")).to_have_text("2")

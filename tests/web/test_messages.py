"""The written channels' audit page in Chromium on the real database: the unaudited list in time
order, the matched words highlighted, the checks, the suggestion preselected, decisions by keyboard."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
from playwright.sync_api import expect
from sqlalchemy import select

from hotline.auth import Role
from hotline.db import AuditEntry, session_scope
from tests.web.conftest import Pages, WebApp, tab_to
from written.api import rules_of
from written.importer import MessageIn
from written.models import WrittenMessage
from written.service import Actor, receive

CHINA = timezone(timedelta(hours=8))


def add(web: WebApp, hour: int, author: str, contact: str, text: str,
        left_with: str | None = None) -> int:
    at = datetime(2026, 12, 3, hour, 0, tzinfo=CHINA)
    item = MessageIn("网上民声", author, contact, text, at, left_with)
    with session_scope(web.sessions) as session:
        row, _ = receive(session, item, rules_of(web.config), Actor("website", "operator"), source="api")
        return row.id


def stored(web: WebApp, message_id: int) -> WrittenMessage:
    with session_scope(web.sessions) as session:
        row = session.get(WrittenMessage, message_id)
        session.expunge(row)
        return row


def test_the_manager_audits_three_messages_by_keyboard_alone(web: WebApp, pages: Pages) -> None:
    advert = add(web, 10, "某公司", "", "专业代开发票，优惠多多，加微信详谈")
    barbecue = add(web, 8, "王女士", "13912873456", "小区外面每天晚上都有露天烧烤，油烟污染太严重了",
                   "生态环境局")
    fake = add(web, 9, "张三", "13800138000", "路口的路名牌把解放路写成了解放街")
    page = pages.open("/messages", token=web.token(Role.OPERATOR, "manager"))

    items = page.locator("#list .cb-item")
    expect(items).to_have_count(3)
    shown = items.evaluate_all("(b) => b.map((x) => Number(x.dataset.id))")
    assert shown == [barbecue, fake, advert]
    expect(page.locator("#detail-title")).to_have_text(f"留言 #{barbecue}")
    expect(page.locator("#m-text mark", has_text="露天烧烤")).to_have_count(1)
    expect(page.locator("#m-text mark", has_text="油烟")).to_have_count(0)  # a runner-up's word
    expect(page.locator("#m-text")).to_have_text("小区外面每天晚上都有露天烧烤，油烟污染太严重了")
    expect(page.locator("#m-left-with")).to_have_text("生态环境局")
    expect(page.locator("#m-checks li")).to_have_count(4)
    expect(page.locator("#m-checks")).to_contain_text("联系电话：通过，手机号码，号段 139")
    expect(page.locator("#m-department")).to_have_value("城市管理局")
    expect(page.locator("#m-section")).to_have_value("综合执法支队")
    expect(page.locator("#m-suggestions li").nth(1)).to_contain_text("生态环境局")

    tab_to(page, "#list .cb-item")
    page.keyboard.press("z")
    expect(page.locator("#message")).to_have_text(f"留言 #{barbecue} 已转办至城市管理局 · 综合执法支队")
    row = stored(web, barbecue)
    assert (row.state, row.department, row.section, row.decided_by) == (
        "transferred", "城市管理局", "综合执法支队", "manager")

    expect(page.locator("#detail-title")).to_have_text(f"留言 #{fake}")
    expect(page.locator("#m-checks .check.problem")).to_contain_text("13800138000 是常见的测试号码")
    expect(page.locator("#m-department")).to_have_value("民政局")
    expect(page.locator("#m-section")).to_have_value("区划地名科")
    expect(page.locator("#list .cb-item").first).to_be_focused()
    page.keyboard.press("a")
    expect(page.locator("#message")).to_have_text(f"留言 #{fake} 已审核通过")
    assert stored(web, fake).state == "approved"

    expect(page.locator("#detail-title")).to_have_text(f"留言 #{advert}")
    expect(page.locator("#m-summary")).to_contain_text("建议退回：含有广告用语")
    page.keyboard.press("t")
    expect(page.locator("#message")).to_have_text(f"留言 #{advert} 已退回")
    row = stored(web, advert)
    assert row.state == "returned" and row.decision_reason.startswith("含有广告用语")
    expect(page.locator("#list-empty")).to_be_visible()

    with session_scope(web.sessions) as session:
        decisions = session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "written.decision")
                                    .order_by(AuditEntry.id)).all()
    assert [d["action"] for d in decisions] == ["transfer", "approve", "return"]


def test_a_return_without_a_reason_asks_for_one_and_changes_nothing(web: WebApp, pages: Pages) -> None:
    message_id = add(web, 8, "李四", "18657120931", "小区门口的井盖丢了，晚上很危险")
    page = pages.open("/messages", token=web.token(Role.OPERATOR, "manager"))
    expect(page.locator("#detail-title")).to_have_text(f"留言 #{message_id}")
    tab_to(page, "#list .cb-item")
    page.keyboard.press("t")
    expect(page.locator("#message")).to_have_text("退回需要填写理由")
    expect(page.locator("#m-reason")).to_be_focused()
    page.keyboard.type("请补充具体位置")
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_have_text(f"留言 #{message_id} 已退回")
    assert stored(web, message_id).decision_reason == "请补充具体位置"


def test_a_monitor_sees_masked_numbers_and_the_refusal_of_a_decision(web: WebApp, pages: Pages) -> None:
    message_id = add(web, 8, "王女士", "13912873456", "公司拖欠我们三个月工资")
    page = pages.open("/messages", token=web.token(Role.MONITOR, "wall"))
    expect(page.locator("#m-contact")).to_have_text("139****3456")
    page.get_by_role("button", name="转办").click()
    expect(page.locator("#message")).to_contain_text("转办失败：")
    assert stored(web, message_id).state == "unaudited"


def post_json(pages: Pages, path: str, token: str, body: dict, **headers: str) -> httpx.Response:
    """A request from another system or another manager's page, over the served API."""
    return httpx.post(f"{pages.base_url}{path}", json=body, timeout=10,
                      headers={"Authorization": f"Bearer {token}", **headers})


def test_the_list_follows_messages_received_and_decided_elsewhere(web: WebApp, pages: Pages) -> None:
    """A message the website posts while the page is open appears without a reload, and one another
    manager decides leaves it; the department the manager picked in the open form stays."""
    first = add(web, 8, "李四", "18657120931", "小区门口的井盖丢了，晚上很危险")
    page = pages.open("/messages", token=web.token(Role.OPERATOR, "manager"))
    expect(page.locator("#detail-title")).to_have_text(f"留言 #{first}")
    expect(page.locator("#connection")).to_have_attribute("data-connection", "live")
    page.evaluate("() => { window.notReloaded = true; }")
    page.locator("#m-department").select_option("民政局")

    sent = post_json(pages, "/api/messages", web.token(Role.OPERATOR, "website"), {
        "channel": "市长信箱", "author": "周先生", "contact": "13912873456",
        "text": "公司拖欠我们三个月工资", "written_at": "2026-12-03T09:30:00+08:00"},
        **{"Idempotency-Key": "live-1"})
    assert sent.status_code == 201, sent.text
    second = sent.json()["id"]
    expect(page.locator("#list .cb-item")).to_have_count(2)
    expect(page.locator(f'#list .cb-item[data-id="{second}"]')).to_contain_text("周先生")
    expect(page.locator("#detail-title")).to_have_text(f"留言 #{first}")
    expect(page.locator("#m-department")).to_have_value("民政局")

    done = post_json(pages, f"/api/messages/{first}/decision", web.token(Role.OPERATOR, "other"),
                     {"action": "approve"})
    assert done.status_code == 200, done.text
    expect(page.locator("#list .cb-item")).to_have_count(1)
    expect(page.locator("#message")).to_have_text(f"留言 #{first} 已由其他人处理，已从列表移除")
    expect(page.locator("#detail-title")).to_have_text(f"留言 #{second}")
    expect(page.locator("#m-department")).to_have_value("人力资源和社会保障局")
    assert page.evaluate("() => window.notReloaded === true")


def test_the_starts_late_detail_does_not_replace_the_picked_message(web: WebApp, pages: Pages) -> None:
    """The page opens the first message at start; the manager picks the second at once and chooses
    a department. The start's answer for the first arriving last must change none of it."""
    from tests.web.test_callbacks import HOLD_NEXT_REPLY

    first = add(web, 8, "李四", "18657120931", "小区门口的井盖丢了，晚上很危险")
    second = add(web, 9, "周先生", "13912873456", "公司拖欠我们三个月工资")
    context = pages.browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.add_init_script(f"({HOLD_NEXT_REPLY})('/api/messages/{first}')")
    page.goto(f"{pages.base_url}/messages#token={web.token(Role.OPERATOR, 'manager')}")
    page.wait_for_function("() => window.heldReply && window.heldReply.release !== null")
    page.locator(f'#list .cb-item[data-id="{second}"]').click()
    expect(page.locator("#detail-title")).to_have_text(f"留言 #{second}")
    page.locator("#m-department").select_option("民政局")
    page.evaluate("() => window.heldReply.release()")
    page.wait_for_timeout(300)  # the stale reply is read and (not) shown within a few ms
    expect(page.locator("#detail-title")).to_have_text(f"留言 #{second}")
    expect(page.locator("#m-department")).to_have_value("民政局")
    expect(page.locator("#list .cb-item[aria-current=true]")).to_have_attribute("data-id", str(second))
    context.close()

"""The operator panel without a PBX: my seat from the token's name, live seat events, the actions
it sends (and the API's refusals it shows), three-way by department and a session followed to
its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from hotline.auth import Role
from hotline.db.audit import AuditEntry
from seat_manager.state import SeatCall, SeatState
from telephony.threeway.session import Party, PartyState, SessionState, ThreeWaySession
from telephony.threeway.session import Role as PartyRole
from tests.web.conftest import Pages, WebApp, api_refusal

LINKEDID = "1764290000.17"
ALWAYS_ON_DUTY = "供水集团"  # hotline.conf: 刘强, duty 00:00-24:00


def a_call(now: datetime) -> SeatCall:
    return SeatCall(citizen_number="13912340000", citizen_name="钱先生", linkedid=LINKEDID,
                    seat_channel="PJSIP/1007-00000011", caller_channel="PJSIP/trunk-00000010",
                    queue="hotline", offered_at=now, started_at=now - timedelta(seconds=30),
                    queue_wait_seconds=8, three_way=False, ended_at=None)


def posted_body(page: Page, path: str, click: object) -> object:
    """Click (a callable) and return the JSON body the page POSTed to `path`."""
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith(path)) as request:
        click()  # type: ignore[operator]
    return request.value.post_data_json


def test_a_stale_seat_says_so_on_the_operator_panel(web: WebApp, pages: Pages) -> None:
    """Issue 13: the seat picture is marked stale everywhere it is shown during an AMI cut."""
    page = pages.open("/operator", token=web.token(Role.OPERATOR, "07"))
    expect(page.locator("#connection")).to_have_attribute("data-connection", "live")
    expect(page.locator("#seat-state")).to_have_text("离线")
    expect(page.locator("#seat-stale")).to_be_hidden()
    now = datetime.now(UTC)
    web.publish_seat("07", state=SeatState.AVAILABLE, state_since=now, queues=("hotline",),
                     stale_since=now)
    expect(page.locator("#seat-stale")).to_be_visible()
    expect(page.locator("#seat-stale")).to_contain_text("与交换机的连接已中断")
    expect(page.locator("#seat-stale")).to_contain_text("座席状态可能已过时")
    web.publish_seat("07", state=SeatState.AVAILABLE, state_since=now, queues=("hotline",))
    expect(page.locator("#seat-stale")).to_be_hidden()


def test_my_seat_comes_from_the_token_name_and_follows_seat_events(web: WebApp, pages: Pages) -> None:
    token = web.token(Role.OPERATOR, "07")
    page = pages.open("/operator", token=token)
    expect(page.locator("#seat-id")).to_have_text("07 号")
    expect(page.locator("#seat-chooser")).to_be_hidden()
    expect(page.locator("#seat-state")).to_have_text("离线")
    expect(page.get_by_role("button", name="签入")).to_be_enabled()
    expect(page.get_by_role("button", name="签出")).to_be_disabled()
    expect(page.get_by_role("button", name="恢复接听")).to_be_disabled()
    expect(page.locator("#call-empty")).to_be_visible()

    expected = api_refusal(pages.base_url, token, "/api/seats/07/login")
    page.get_by_role("button", name="签入").click()
    expect(page.locator("#message")).to_have_text(f"签入失败：{expected}")

    expect(page.locator("#connection")).to_have_attribute("data-connection", "live")
    now = datetime.now(UTC)
    web.publish_seat("07", state=SeatState.AVAILABLE, state_since=now, queues=("hotline",))
    expect(page.locator("#seat-state")).to_have_text("空闲")
    expect(page.locator("#seat-state")).to_have_attribute("data-state", "available")
    expect(page.get_by_role("button", name="签入")).to_be_disabled()
    expect(page.get_by_role("button", name="签出")).to_be_enabled()
    web.publish_seat("08", state=SeatState.ON_CALL, state_since=now)  # not mine: ignored
    expect(page.locator("#seat-id")).to_have_text("07 号")

    # Pause: a common reason from the list, or free text that takes precedence.
    page.get_by_label("原因", exact=True).select_option("午休")
    body = posted_body(page, "/api/seats/07/pause", page.get_by_role("button", name="开始小休").click)
    assert body == {"reason": "午休"}
    expected = api_refusal(pages.base_url, token, "/api/seats/07/pause", {"reason": "午休"})
    expect(page.locator("#message")).to_have_text(f"小休（午休）失败：{expected}")
    page.get_by_label("其他原因（填写后以此为准）").fill("外出办事")
    body = posted_body(page, "/api/seats/07/pause", page.get_by_role("button", name="开始小休").click)
    assert body == {"reason": "外出办事"}

    web.publish_seat("07", state=SeatState.PAUSED, state_since=now, queues=("hotline",), paused=True,
                     pause_reason="培训", paused_since=now)
    expect(page.locator("#seat-state")).to_have_text("小休")
    expect(page.locator("#seat-pause")).to_contain_text("培训")
    expect(page.get_by_role("button", name="恢复接听")).to_be_enabled()
    expect(page.get_by_role("button", name="开始小休")).to_be_disabled()


def test_three_way_by_department_during_my_call(web: WebApp, pages: Pages) -> None:
    token = web.token(Role.OPERATOR, "07")
    departments = httpx.get(f"{pages.base_url}/api/threeway/departments",
                            headers={"Authorization": f"Bearer {token}"}).json()
    on_duty = {d["name"]: d["on_duty_now"] for d in departments}
    assert on_duty[ALWAYS_ON_DUTY] == ["刘强"]
    page = pages.open("/operator", token=token)
    rows = page.locator("#departments li")
    expect(rows).to_have_count(len(web.config.departments))
    expect(rows.filter(has_text=ALWAYS_ON_DUTY)).to_contain_text("值班：刘强")
    invite = page.get_by_role("button", name=f"邀请{ALWAYS_ON_DUTY}的值班专家加入通话")
    expect(invite).to_be_disabled()  # no call yet

    expect(page.locator("#connection")).to_have_attribute("data-connection", "live")
    now = datetime.now(UTC)
    web.publish_seat("07", state=SeatState.ON_CALL, state_since=now, queues=("hotline",),
                     call=a_call(now))
    expect(page.locator("#call-number")).to_have_text("13912340000")
    expect(page.locator("#call-name")).to_have_text("钱先生")
    expect(page.locator("#call-duration")).not_to_have_text("—")
    expect(invite).to_be_enabled()
    for name, experts in on_duty.items():
        button = page.get_by_role("button", name=f"邀请{name}的值班专家加入通话")
        expect(button).to_be_enabled() if experts else expect(button).to_be_disabled()

    # The bridge knows no such call (there is no PBX): the API's refusal is shown.
    start = f"/api/threeway/calls/{LINKEDID}/start"
    expected = api_refusal(pages.base_url, token, start, {"seat_id": "07", "department": ALWAYS_ON_DUTY})
    assert posted_body(page, start, invite.click) == {"seat_id": "07", "department": ALWAYS_ON_DUTY}
    expect(page.locator("#message")).to_have_text(f"邀请{ALWAYS_ON_DUTY}专家失败：{expected}")


def a_session(now: datetime) -> ThreeWaySession:
    return ThreeWaySession(
        session_id="tw-web-1", room="hotline-3way-tw-web-1", seat_id="07", linkedid=LINKEDID,
        department=ALWAYS_ON_DUTY, citizen=Party(PartyRole.CITIZEN, "13912340000", PartyState.TALKING),
        operator=Party(PartyRole.OPERATOR, "07", PartyState.TALKING),
        experts=[Party(PartyRole.EXPERT, "刘强", PartyState.RINGING, dialled_at=now)],
        ring_seconds=20, started_at=now)


def test_an_open_three_way_session_is_followed_to_its_end(web: WebApp, pages: Pages) -> None:
    assert web.hall is not None
    session = a_session(datetime.now(UTC))
    # The service only creates sessions from live calls; without a PBX the test hands it one.
    web.hall.threeway._remember(session)
    page = pages.open("/operator", token=web.token(Role.OPERATOR, "07"))
    panel = page.locator("#session")
    expect(panel).to_be_visible()
    expect(page.locator("#session-state")).to_have_text("正在呼叫专家")
    expect(page.locator("#parties")).to_contain_text("专家 刘强：振铃")
    expect(page.get_by_role("button", name="取消呼叫")).to_be_enabled()
    expect(page.get_by_role("button", name="我退出（市民与专家继续）")).to_be_disabled()

    # The seat is read again when the session moves (three_way changes without a `seat` event).
    with page.expect_request(lambda r: r.url.endswith("/api/seats/07")):
        session.experts[0].state = PartyState.IN_CONFERENCE
        session.state = SessionState.CONFERENCE
    expect(page.locator("#session-state")).to_have_text("三方通话中")  # polled
    expect(page.get_by_role("button", name="取消呼叫")).to_be_disabled()
    expect(page.get_by_role("button", name="我退出（市民与专家继续）")).to_be_enabled()
    expect(page.get_by_role("button", name="请专家退出")).to_be_enabled()
    expect(page.get_by_role("button", name="全部挂断")).to_be_enabled()

    session.state = SessionState.ENDED
    session.reason = "operator ended the call"
    expect(page.locator("#session-state")).to_have_text("已结束：operator ended the call")
    expect(page.get_by_role("button", name="全部挂断")).to_be_disabled()


def test_an_admin_chooses_the_seat_and_a_monitor_only_looks(web: WebApp, pages: Pages) -> None:
    page = pages.open("/operator", token=web.token(Role.ADMIN, "supervisor"))
    chooser = page.get_by_label("选择座席")
    expect(chooser.locator("option")).to_have_count(50)
    chooser.select_option("12")
    expect(page.locator("#seat-id")).to_have_text("12 号")
    page.reload()
    expect(page.locator("#seat-id")).to_have_text("12 号")  # remembered in this browser

    page = pages.open("/operator", token=web.token(Role.MONITOR, "hall-monitor"))
    expect(page.locator("#message")).to_have_text("监控角色只能查看，不能操作座席")
    expect(page.locator("#seat-id")).not_to_have_text("")
    expect(page.get_by_role("button", name="签入")).to_be_disabled()


def test_a_seat_token_acts_for_its_own_seat_only(web: WebApp, base_url: str) -> None:
    seat_token = web.token(Role.OPERATOR, "07")
    lead_token = web.token(Role.OPERATOR, "team-lead", team_lead=True)
    with web.sessions() as session:
        audits_before = session.scalar(select(func.count()).select_from(AuditEntry))
    for action in ("login", "logout", "resume"):
        message = api_refusal(base_url, seat_token, f"/api/seats/08/{action}")
        assert message == "令牌“07”只能代表 07 号坐席，不能代表 08 号"
    refused = httpx.post(f"{base_url}/api/seats/08/pause", json={"reason": "午休"},
                         headers={"Authorization": f"Bearer {seat_token}"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_your_seat"
    # Its own seat, and any seat for a token not named after one, get past the check (to the
    # PBX, which this app has not connected: a 503, not a 403).
    for token, seat in ((seat_token, "07"), (lead_token, "08")):
        answer = httpx.post(f"{base_url}/api/seats/{seat}/login",
                            headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 503, answer.text
    with web.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits_before

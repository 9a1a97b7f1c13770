"""The screening desk (筛选台) in Chromium, keyboard only: a small night decided valid with an
edited number (it reaches the callback queue), invalid, duplicate, then undone; checked in the
database and in the audit."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from hotline.auth import Role
from hotline.db import session_scope
from hotline.db.audit import AuditEntry
from hotline.db.types import utcnow
from tests.voicemail.wavs import write_tone
from tests.web.conftest import Pages, WebApp
from tests.web.test_callbacks import HOLD_NEXT_REPLY
from voicemail.callbacks.models import Callback
from voicemail.callbacks.service import enqueue_callback
from voicemail.models import STATE_INVALID, STATE_NEEDS_REVIEW, STATE_VALID, Voicemail

REVIEW_REASONS = [{"code": "speech", "detail": "3.0 s in 4.0 s"}, {"code": "no_transcript", "detail": ""}]


def add(web: WebApp, name: str, *, state: str, caller: str | None, minutes_ago: int,
        callback_number: str | None = None, department: str | None = None,
        override_by: str | None = None, transcript: str | None = None,
        reasons: list[dict[str, str]] | None = None) -> int:
    now = utcnow()
    with session_scope(web.sessions) as session:
        row = Voicemail(recording_id=name, caller_num=caller or "", caller_withheld=caller is None,
                        call_time=now - timedelta(minutes=minutes_ago), duration_s=4.0, state=state,
                        callback_number=callback_number, department=department, priority="normal",
                        triage_reasons=reasons or REVIEW_REASONS, transcript=transcript,
                        explanation_zh="待人工复核：尚未转写，请收听录音",
                        features={"speech_segments": [[0.5, 2.0], [2.5, 3.5]]}, triaged_at=now, version=1,
                        override_by=override_by, override_at=now if override_by else None)
        session.add(row)
        session.flush()
        row.archive_name = f"{row.id}.wav"
        write_tone(web.config.voicemail.archive / row.archive_name, 4.0)
        if state == STATE_VALID:
            enqueue_callback(session, row.id, priority="normal", department=department,
                             number=callback_number or caller or "")
        return row.id


def current(page: Page, vid: int) -> None:
    expect(page.locator("#detail-title")).to_have_text(f"留言 #{vid}")


def test_a_night_screened_with_the_keyboard_only(web: WebApp, pages: Pages) -> None:
    spoken = add(web, "spoken", state=STATE_NEEDS_REVIEW, caller=None, minutes_ago=300,
                 callback_number="13911111111", department="供水集团")
    chatter = add(web, "chatter", state=STATE_NEEDS_REVIEW, caller="13700000002", minutes_ago=250)
    repeat = add(web, "repeat", state=STATE_NEEDS_REVIEW, caller="13800000003", minutes_ago=200)
    first = add(web, "first", state=STATE_VALID, caller="13800000003", minutes_ago=400,
                callback_number="13800000003")
    token = web.token(Role.OPERATOR, "筛选员")
    fetched: list[str] = []
    page = pages.open("/screening", token=token)
    page.on("request", lambda request: fetched.append(request.url))
    expect(page.locator("#progress")).to_have_text("已处理 0 / 4")
    groups = page.locator(".sc-group h3")
    expect(groups).to_have_text(["待复核 3", "机器判有效（抽查） 1", "机器判无效（抽查） 0"])
    current(page, spoken)  # needs-review first, oldest first
    expect(page.locator("#d-caller")).to_have_text("号码隐藏")
    expect(page.locator("#d-verdict")).to_have_text("待人工复核（机器）")
    expect(page.locator("#d-reasons")).to_have_text("有人声、尚未转写")
    expect(page.locator("#strip .bar.speech").first).to_be_attached()
    page.keyboard.press("s")
    expect(page.locator("#speed")).to_have_text("倍速 1.5×")
    page.keyboard.press(" ")  # speech only: starts at the first speech segment, at 1.5x
    expect(page.locator("#play")).to_have_text("暂停")
    expect(page.locator("#play-state")).to_have_text("只播放人声片段")
    player = page.locator("#player")
    assert player.evaluate("(a) => a.src").startswith("blob:")
    assert player.evaluate("(a) => a.playbackRate") == 1.5
    assert player.evaluate("(a) => a.currentTime") >= 0.5
    page.keyboard.press(" ")
    expect(page.locator("#play")).to_have_text("播放人声")
    page.wait_for_function("() => true")
    assert any(url.endswith(f"/api/voicemails/{chatter}/audio") for url in fetched) or page.evaluate(
        "(u) => performance.getEntriesByType('resource').some((e) => e.name.endsWith(u))",
        f"/api/voicemails/{chatter}/audio")  # the next message's audio was fetched ahead

    # Valid: V opens the form with the spoken number selected; typing replaces it, Enter decides.
    page.keyboard.press("v")
    expect(page.locator("#v-number")).to_be_focused()
    expect(page.locator("#v-number")).to_have_value("13911111111")
    expect(page.locator("#v-department")).to_have_value("供水集团")
    page.keyboard.type("1391234567")  # one digit short: refused with the reason, nothing stored
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_contain_text("号码格式不对")
    page.keyboard.press("End")
    page.keyboard.type("8")
    page.keyboard.press("Enter")
    expect(page.locator("#message")).to_have_text(f"留言 #{spoken}：判为有效，已进入回拨队列")
    current(page, chatter)  # on to the next undecided message
    expect(page.locator("#progress")).to_have_text("已处理 1 / 4")
    page.keyboard.press("v")  # no suggestion here: not the department of the message before
    expect(page.locator("#v-department")).to_have_value("")
    page.keyboard.press("Escape")

    # Invalid: X, then the reason's number.
    page.keyboard.press("x")
    expect(page.locator("#choice-list li").nth(5)).to_have_text("6. 没有诉求（误拨、闲聊）")
    page.keyboard.press("6")
    current(page, repeat)

    # Duplicate: D, then the number of the same caller's earlier message.
    page.keyboard.press("d")
    expect(page.locator("#choice-list li")).to_have_count(1)
    page.keyboard.press("1")
    expect(page.locator("#message")).to_have_text(f"留言 #{repeat}：标为留言 #{first} 的重复")
    expect(page.locator("#progress")).to_have_text("已处理 3 / 4")

    # Undo: U puts the last decision back.
    page.keyboard.press("u")
    expect(page.locator("#message")).to_have_text(f"已撤销：留言 #{repeat} 恢复为待人工复核")
    expect(page.locator("#progress")).to_have_text("已处理 2 / 4")
    page.locator(f'#night .cb-item[data-id="{spoken}"]').click()
    expect(page.locator("#d-verdict")).to_have_text("有效（人工）")  # not called the machine's

    with web.sessions() as session:
        rows = {r.id: r for r in session.scalars(select(Voicemail))}
        queued = {c.voicemail_id: c.number for c in session.scalars(select(Callback))}
        audit = [(a.action, a.actor, a.target) for a in session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("voicemail.override%")).order_by(AuditEntry.id))]
    assert (rows[spoken].state, rows[spoken].callback_number) == (STATE_VALID, "13912345678")
    assert queued == {first: "13800000003", spoken: "13912345678"}
    assert rows[chatter].state == STATE_INVALID
    assert rows[chatter].override_reason == "筛选台：没有诉求（误拨、闲聊）"
    assert rows[repeat].state == STATE_NEEDS_REVIEW and rows[repeat].duplicate_of is None
    assert audit == [("voicemail.override", "筛选员", f"voicemail:{spoken}"),
                     ("voicemail.override", "筛选员", f"voicemail:{chatter}"),
                     ("voicemail.override", "筛选员", f"voicemail:{repeat}"),
                     ("voicemail.override.undo", "筛选员", f"voicemail:{repeat}")]


def test_the_stand_in_model_is_announced_loudly_on_the_desk(web: WebApp, pages: Pages) -> None:
    from voicemail.transcribe import default_test_model_path
    from voicemail.triage_worker import TriageWorker

    worker = TriageWorker(web.config, web.sessions, model_path=default_test_model_path())
    worker._load()  # what start() does first, without the sweeping loop
    web.app.state.triage_worker = worker
    try:
        page = pages.open("/screening", token=web.token(Role.OPERATOR, "筛选员"))
        warning = page.locator("#model-warning")
        expect(warning).to_be_visible()
        expect(warning).to_contain_text("识别模型不是中文")
    finally:
        if worker.pool is not None:
            worker.pool.close()


def test_the_starts_late_night_does_not_replace_the_picked_message(web: WebApp, pages: Pages) -> None:
    """The start's list is slow; the screener refreshes (R), picks the second message, and then the
    start's answer arrives: it must neither redraw an older night nor move her back to the first."""
    first = add(web, "first", state=STATE_NEEDS_REVIEW, caller="13700000001", minutes_ago=300)
    second = add(web, "second", state=STATE_NEEDS_REVIEW, caller="13700000002", minutes_ago=200)
    context = pages.browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.add_init_script(f"({HOLD_NEXT_REPLY})('/api/voicemails/screening')")
    page.goto(f"{pages.base_url}/screening#token={web.token(Role.OPERATOR, '筛选员')}")
    page.wait_for_function("() => window.heldReply && window.heldReply.release !== null")
    page.get_by_role("button", name="刷新").click()
    page.locator(f'#night .cb-item[data-id="{second}"]').click()
    current(page, second)
    page.evaluate("() => window.heldReply.release()")
    page.wait_for_timeout(300)  # the stale reply is read and (not) shown within a few ms
    current(page, second)
    expect(page.locator(f'#night .cb-item[data-id="{first}"]')).to_have_attribute("aria-current", "false")
    context.close()


def test_spot_checks_confirmed_as_a_group_and_playback_between_messages(web: WebApp, pages: Pages) -> None:
    """Shift+C confirms what is left of a machine group in one call; the recording a decision
    moves to is fetched ahead even when the one below was decided already; recordings left
    behind are let go; B goes back 5 s of speech, not into the silence before it."""
    review = add(web, "review", state=STATE_NEEDS_REVIEW, caller="13700000001", minutes_ago=300)
    add(web, "decided", state=STATE_NEEDS_REVIEW, caller="13700000002", minutes_ago=290, override_by="乙")
    invalid = [add(web, f"invalid{i}", state=STATE_INVALID, caller=f"1370000001{i}", minutes_ago=280 - i)
               for i in range(3)]
    page = pages.open("/screening", token=web.token(Role.OPERATOR, "筛选员"))
    current(page, review)
    page.wait_for_function(
        "(u) => performance.getEntriesByType('resource').some((e) => e.name.endsWith(u))",
        arg=f"/api/voicemails/{invalid[0]}/audio")  # where a decision goes, past the decided one
    page.evaluate("""() => { window.revoked = 0; const revoke = URL.revokeObjectURL;
        URL.revokeObjectURL = (u) => { window.revoked += 1; revoke.call(URL, u); }; }""")

    page.keyboard.press(" ")
    expect(page.locator("#play")).to_have_text("暂停")
    page.keyboard.press(" ")
    player = page.locator("#player")
    page.wait_for_function("() => document.querySelector('#player').readyState >= 1")
    player.evaluate("(a) => { a.currentTime = 3.2; }")  # 0.7 s into the second speech segment
    page.keyboard.press("b")  # 0.7 + 1.5 s of speech lie before: back to the start of the first
    assert player.evaluate("(a) => a.currentTime") == 0.5

    for _ in range(3):
        page.keyboard.press("j")
    current(page, invalid[1])
    page.wait_for_function("() => window.revoked >= 1")  # the first message's recording let go
    page.evaluate(HOLD_NEXT_REPLY, "/api/voicemails/screening")  # the night read after "c" comes late
    page.keyboard.press("c")  # one spot-checked on its own
    expect(page.locator("#message")).to_contain_text(f"留言 #{invalid[1]}：已确认机器判定")
    for _ in range(2):  # before the night is read again (the confirmation counts at once), and after
        page.locator(f'#night .cb-item[data-id="{invalid[0]}"]').click()
        page.keyboard.press("Shift+C")
        expect(page.locator("#choices-title")).to_have_text("成批确认：机器判无效（抽查）")
        expect(page.locator("#choice-list li")).to_have_text(["1. 确认这一组未处理的 2 条"])
        if page.evaluate("() => window.heldReply.release !== null"):
            page.evaluate("() => { window.heldReply.release(); window.heldReply.release = null; }")
            current(page, invalid[2])  # the late night read moves on to the next undecided message
    page.keyboard.press("1")
    expect(page.locator("#message")).to_have_text("已确认 2 条机器判定")
    expect(page.locator("#progress")).to_have_text("已处理 4 / 5")
    with web.sessions() as session:
        rows = {r.id: r for r in session.scalars(select(Voicemail))}
        audit = [a.target for a in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "voicemail.override").order_by(AuditEntry.id))]
    assert all(rows[i].state == STATE_INVALID and rows[i].override_by == "筛选员" for i in invalid)
    assert audit == [f"voicemail:{invalid[1]}", f"voicemail:{invalid[0]}", f"voicemail:{invalid[2]}"]
    page.locator(f'#night .cb-item[data-id="{review}"]').click()
    page.keyboard.press("Shift+C")  # the review group is decided one by one
    expect(page.locator("#message")).to_contain_text("可以成批确认")


def test_a_transcript_in_no_chinese_at_all_is_not_shown(web: WebApp, pages: Pages) -> None:
    """The stand-in model (demo, CI, a hall's first day) writes Korean for Chinese speech: the desk
    says why there is no transcript instead of showing it; a short Chinese one is shown, marked."""
    unusable = [{"code": "speech", "detail": "3.0 s in 4.0 s"},
                {"code": "transcript_unusable",
                 "detail": "transcript is not Chinese (ko): the speech model is not Chinese"}]
    korean = add(web, "korean", state=STATE_NEEDS_REVIEW, caller="13700000001", minutes_ago=300,
                 transcript="이어 영파 비료 여기 에 다", reasons=unusable)
    short = add(web, "short", state=STATE_NEEDS_REVIEW, caller="13700000002", minutes_ago=200,
                transcript="停水", reasons=[{"code": "transcript_unusable",
                                            "detail": "only 2 characters for 3.0 s of speech"}])
    page = pages.open("/screening", token=web.token(Role.OPERATOR, "筛选员"))
    current(page, korean)
    expect(page.locator("#d-transcript")).to_have_text(
        "（有人声但转写不可用（识别模型不是中文），不显示转写，请收听录音）")
    page.keyboard.press("j")
    current(page, short)
    expect(page.locator("#d-transcript")).to_have_text("（有人声但转写不可用（转写字数太少），仅供参考）停水")

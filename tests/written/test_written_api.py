"""The written channels through the API, on SQLite and PostgreSQL: intake, audit, decisions."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select

from hotline.api import create_app
from hotline.auth import Role, add_token
from hotline.config import load_config
from hotline.db import AuditEntry, make_engine, make_session_factory, session_scope, upgrade_database
from written.api import XLSX_TYPE, router
from written.models import WrittenMessage

CJK = re.compile(r"[\u4e00-\u9fff]")

REPO = Path(__file__).resolve().parents[2]
BARBECUE = "小区外面的空地每天晚上都有露天烧烤，烟熏火燎的，油烟污染太严重了"


@dataclass
class Hall:
    client: TestClient
    tokens: dict[Role, str]
    sessions: object

    def headers(self, role: Role = Role.OPERATOR, key: str | None = None) -> dict[str, str]:
        found = {"Authorization": f"Bearer {self.tokens[role]}"}
        return found | ({"Idempotency-Key": key} if key else {})

    def count(self) -> int:
        with session_scope(self.sessions) as session:
            return session.scalar(select(func.count()).select_from(WrittenMessage))

    def decisions(self) -> list[AuditEntry]:
        with session_scope(self.sessions) as session:
            return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "written.decision")))

    def post(self, key: str, **fields: str) -> dict:
        body = {"channel": "网上民声", "author": "王女士", "contact": "13912873456", "text": BARBECUE,
                "written_at": "2026-12-03T09:15:00+08:00", "left_with": "生态环境局"} | fields
        return self.client.post("/api/messages", json=body, headers=self.headers(key=key))


@pytest.fixture
def hall(database_url: str, tmp_path: Path) -> Iterator[Hall]:
    config = load_config(REPO / "hotline.conf", overrides={"database.url": database_url})
    upgrade_database(config)
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        tokens = {role: add_token(session, f"{role.value}-w", role) for role in Role}
    with TestClient(create_app(config, extra_routers=[router]), raise_server_exceptions=False) as client:
        yield Hall(client, tokens, sessions)
    engine.dispose()


def test_a_message_is_received_once_per_idempotency_key(hall: Hall) -> None:
    first = hall.post("site-1")
    assert first.status_code == 201, first.text
    again = hall.post("site-1")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = hall.post("site-1", text="另一条留言：路灯坏了")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    missing = hall.client.post("/api/messages", json={}, headers=hall.headers())
    assert missing.status_code == 422
    assert hall.count() == 1


def test_the_audit_suggests_the_department_and_checks_the_contact(hall: Hall) -> None:
    message_id = hall.post("site-2").json()["id"]
    shown = hall.client.get(f"/api/messages/{message_id}", headers=hall.headers()).json()
    assert [s["department"] for s in shown["suggestions"]][:2] == ["城市管理局", "生态环境局"]
    best = shown["suggestions"][0]
    assert best["section"] == "综合执法支队" and "露天烧烤" in best["reason"]
    assert shown["contact"] == {"valid": True, "reason": "手机号码，号段 139"}
    assert shown["contact_number"] == "13912873456" and shown["left_with"] == "生态环境局"
    assert shown["recommendation"] == "transfer" and shown["summary"].startswith("建议转办城市管理局")
    assert shown["checks"]["substance"]["ok"] and not shown["checks"]["advert"]["is_advert"]
    masked = hall.client.get(f"/api/messages/{message_id}", headers=hall.headers(Role.MONITOR)).json()
    assert masked["contact_number"] == "139****3456"


def test_false_numbers_adverts_empty_talk_and_repeats_are_explained(hall: Hall) -> None:
    fake = hall.post("k-fake", contact="13800138000", author="张三").json()
    assert fake["contact"] == {"valid": False, "reason": "13800138000 是常见的测试号码，不是真实联系电话"}
    advert = hall.post("k-ad", text="专业代开发票，优惠多多，加微信详谈", author="某公司", contact="").json()
    assert advert["checks"]["advert"]["is_advert"] and advert["recommendation"] == "return"
    hello = hall.post("k-hi", text="你好，在吗？谢谢！", author="李四", contact="18657120931").json()
    assert not hello["checks"]["substance"]["ok"] and "问候语" in hello["summary"]
    first = hall.post("k-a", text="幸福路的路灯坏了一个月", contact="15067238841").json()
    repeat = hall.post("k-b", text="幸福路的路灯坏了一个月，晚上很黑，请尽快修", contact="150-6723-8841",
                       written_at="2026-12-03T15:00:00+08:00").json()
    assert repeat["checks"]["duplicate"]["of"] == first["id"]
    assert f"第{first['id']}号留言重复" in repeat["summary"]


def test_decisions_are_checked_stored_and_audited(hall: Hall) -> None:
    message_id = hall.post("d-1").json()["id"]
    url = f"/api/messages/{message_id}/decision"
    for body, code in [({"action": "transfer", "department": "城管局"}, "unknown_department"),
                       ({"action": "transfer", "department": "城市管理局", "section": "无此科"},
                        "unknown_section"),
                       ({"action": "return"}, "reason_required"),
                       ({"action": "approve", "department": "城市管理局"}, "department_unexpected")]:
        refused = hall.client.post(url, json=body, headers=hall.headers())
        assert refused.status_code == 422 and refused.json()["error"]["code"] == code
        assert CJK.search(refused.json()["error"]["message"])  # a person reads it: Chinese
    monitor = hall.client.post(url, json={"action": "approve"}, headers=hall.headers(Role.MONITOR))
    assert monitor.status_code == 403
    assert hall.decisions() == []
    done = hall.client.post(url, json={"action": "transfer", "department": "城市管理局",
                                       "section": "综合执法支队"}, headers=hall.headers())
    assert done.status_code == 200 and done.json()["state"] == "transferred"
    assert done.json()["decided_by"] == "operator-w"
    again = hall.client.post(url, json={"action": "approve"}, headers=hall.headers())
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_decided"
    assert again.json()["error"]["message"].startswith(f"留言 {message_id} 已经处理过")
    [entry] = hall.decisions()
    assert entry.target == f"written_message:{message_id}" and entry.actor == "operator-w"
    assert entry.detail["department"] == "城市管理局" and entry.detail["suggested"] == "城市管理局"
    returned = hall.post("d-2", text="小区门口的井盖丢了", author="赵六")
    back = hall.client.post(f"/api/messages/{returned.json()['id']}/decision",
                            json={"action": "return", "reason": "重复留言"}, headers=hall.headers())
    assert back.json()["state"] == "returned" and back.json()["decision_reason"] == "重复留言"
    assert [m["id"] for m in hall.client.get("/api/messages/queue", headers=hall.headers()).json()] == []


CSV = ("渠道,留言人,联系电话,留言内容,留言时间,留言部门\n"
       "市长信箱,陈先生,0571-87023456,公司拖欠我们三个月工资，老板电话也不接,2026-12-02 08:00,\n"
       "网上民声,周女士,18657120931,路口的路名牌把解放路写成了解放街,2026-12-01 10:30,城市管理局\n")


def test_csv_and_xlsx_imports_land_in_the_unaudited_list_in_time_order(hall: Hall) -> None:
    done = hall.client.post("/api/messages/import", content=CSV.encode("utf-8-sig"),
                            headers=hall.headers() | {"Content-Type": "text/csv"})
    assert done.status_code == 201 and done.json()["imported"] == 2
    book = Workbook()
    sheet = book.active
    sheet.append(["留言时间", "渠道", "留言人", "联系电话", "留言内容"])
    sheet.append([datetime(2026, 12, 1, 9, 0), "网上民声", "吴先生", "13605718823", "楼道里燃气味很大"])
    data = io.BytesIO()
    book.save(data)
    done = hall.client.post("/api/messages/import", content=data.getvalue(),
                            headers=hall.headers() | {"Content-Type": XLSX_TYPE})
    assert done.status_code == 201, done.text
    listed = hall.client.get("/api/messages/queue", headers=hall.headers()).json()
    assert [m["author"] for m in listed] == ["吴先生", "周女士", "陈先生"]
    assert listed[0]["written_at"].startswith("2026-12-01T01:00:00")  # 09:00 in Asia/Shanghai
    assert listed[1]["suggestions"][0]["section"] == "区划地名科"
    assert [m["source"] for m in listed] == ["xlsx", "csv", "csv"]


def test_a_bad_file_is_refused_whole_naming_its_rows(hall: Hall) -> None:
    bad = CSV + "微博,钱七,13912873456,内容,2026-12-01 10:30,\n网上民声,孙八,13912873456,内容,昨天,\n"
    refused = hall.client.post("/api/messages/import", content=bad.encode(),
                               headers=hall.headers() | {"Content-Type": "text/csv"})
    assert refused.status_code == 422
    problems = refused.json()["error"]["detail"]
    assert problems[0].startswith("第4行：渠道“微博”无效") and problems[1].startswith("第5行：留言时间“昨天”")
    header = hall.client.post("/api/messages/import", content="姓名,内容\n".encode(),
                              headers=hall.headers() | {"Content-Type": "text/csv"})
    assert "缺少列" in header.json()["error"]["message"]
    assert hall.count() == 0


def test_a_monitor_reads_no_citizen_number_anywhere_in_a_message(hall: Hall) -> None:
    """Issue 13: masked everywhere a monitor can read, not only in contact_number: the citizen's
    own words, the contact check's reason and the summary name numbers too."""
    text = f"{BARBECUE}，请回电 139 1287 3456 或 0571-87654321"
    hall.post("mask-1", contact="13800138000", text=text)
    hall.post("mask-2", contact="138-1234-5678转8", text="幸福路的路灯坏了一个月，电话 15067238841")
    full = [m for m in hall.client.get("/api/messages/queue", headers=hall.headers()).json()]
    assert "139 1287 3456" in full[0]["text"] and "13800138000" in full[0]["contact"]["reason"]
    assert "138-1234-5678" in full[1]["contact"]["reason"]

    shown = hall.client.get("/api/messages/queue", headers=hall.headers(Role.MONITOR))
    assert shown.status_code == 200
    everything = shown.text + "".join(
        hall.client.get(f"/api/messages/{m['id']}", headers=hall.headers(Role.MONITOR)).text
        for m in full)
    for number in ("13912873456", "139 1287 3456", "87654321", "13800138000", "1234-5678",
                   "15067238841"):
        assert number not in everything, number
    assert "139****3456" in everything and "138****8000" in everything


def test_an_import_up_to_its_documented_bound_is_taken_and_past_it_refused_unread(hall: Hall) -> None:
    """The import documents 5 MB, but the API's 1 MiB body bound (issue 13's 413) refused any
    file over 1 MiB first: a 1.6 MB file of 60 long letters never reached the route."""
    rows = [f"市长信箱,陈先生{i},0571-87023456,{BARBECUE * 280}第{i}封,2026-12-02 08:{i:02d},"
            for i in range(60)]
    data = ("渠道,留言人,联系电话,留言内容,留言时间,留言部门\n" + "\n".join(rows) + "\n").encode()
    assert 1024 * 1024 < len(data) < 5 * 1024 * 1024
    done = hall.client.post("/api/messages/import", content=data,
                            headers=hall.headers() | {"Content-Type": "text/csv"})
    assert done.status_code == 201, done.text[:300]
    assert done.json()["imported"] == 60 and hall.count() == 60
    too_big = hall.client.post("/api/messages/import", content=b"x" * (5 * 1024 * 1024 + 1),
                               headers={"Content-Type": "text/csv"})  # no token: refused unread
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "body_too_large"
    small_route = hall.client.post("/api/messages", content=b"x" * (1024 * 1024 + 1),
                                   headers=hall.headers(key="big") | {"Content-Type": "application/json"})
    assert small_route.status_code == 413  # every other route keeps the 1 MiB bound


def test_a_control_character_is_refused_before_anything_is_stored(hall: Hall) -> None:
    """Issue 13 (NUL in a pause reason gave a 500): on PostgreSQL a NUL in a message, a decision's
    reason or an imported cell was a 500 too. Refused with a 422 naming the field or the row;
    a letter keeps its line breaks."""
    for field, value in (("text", "路灯坏了\x00一个月"), ("author", "王\x00女士"), ("contact", "139\x01")):
        refused = hall.post(f"ctl-{field}", **{field: value})
        assert refused.status_code == 422, (field, refused.text)
    letter = hall.post("ctl-lines", text=f"{BARBECUE}。\n\n\t请尽快处理。\r\n")
    assert letter.status_code == 201 and "\n\n\t请尽快" in letter.json()["text"]
    decided = hall.client.post(f"/api/messages/{letter.json()['id']}/decision", headers=hall.headers(),
                               json={"action": "return", "reason": "内容\x00不全"})
    assert decided.status_code == 422
    csv = CSV.replace("周女士", "周\x00女士").encode()
    imported = hall.client.post("/api/messages/import", content=csv,
                                headers=hall.headers() | {"Content-Type": "text/csv"})
    assert imported.status_code == 422 and imported.json()["error"]["code"] == "import_refused"
    assert imported.json()["error"]["detail"][0].startswith("第3行：留言人含有控制字符")
    assert hall.count() == 1

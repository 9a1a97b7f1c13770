"""/api/reports and its exports on a seeded store: the same numbers as /api/stats, the hourly
reference weekdays, the funnel, Chinese CSV and XLSX headings, clear refusals."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from hotline.auth import Role, add_token
from hotline.config import HotlineConfig, load_config
from hotline.db import session_scope, upgrade_database
from hotline.errors import REFUSALS
from hotline.wiring import build_app
from tests.reports.seed import seed
from tests.reports.test_figures import DAY

REPO = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def config(tmp_path: Path) -> HotlineConfig:
    config = load_config(REPO / "hotline.conf", overrides={"database.url": f"sqlite:///{tmp_path}/r.db"})
    upgrade_database(config)
    return config


@pytest.fixture
def client(config: HotlineConfig) -> Iterator[tuple[TestClient, dict[Role, str]]]:
    app = build_app(config, bridge=False)
    seed(app.state.sessionmaker)
    with session_scope(app.state.sessionmaker) as session:
        tokens = {role: add_token(session, f"{role.value}-r", role) for role in Role}
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client, tokens
    app.state.engine.dispose()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_page_data_agrees_with_the_stored_statistics(client) -> None:
    http, tokens = client
    query = f"from={DAY - timedelta(days=1)}&to={DAY}&day={DAY}"
    body = http.get(f"/api/reports?{query}", headers=auth(tokens[Role.MONITOR])).json()
    stats = http.get(f"/api/stats?from={DAY}&to={DAY}", headers=auth(tokens[Role.MONITOR])).json()

    assert body["day_hourly"]["received"] == stats["totals"]["received_by_hour"]
    assert sum(body["day_hourly"]["answered"]) == stats["totals"]["answered"]
    assert sum(body["day_hourly"]["abandoned"]) == stats["totals"]["abandoned"]
    assert body["reference_days"] == [str(DAY - timedelta(weeks=n)) for n in (1, 2, 3, 4)]
    reference = body["reference_hourly"]
    nine = (reference["received"][9], reference["answered"][9], reference["abandoned"][9])
    assert nine == (1.0, 0.75, 0.25)  # 4 calls, 3 answered, 1 abandoned over four weeks
    assert reference["abandoned"][15] == 0.25 and sum(reference["received"]) == 1.25
    day = next(d for d in body["days"] if d["day"] == str(DAY))
    stats_day = stats["days"][0]
    assert day["service_level"] == stats_day["service_level"]
    assert day["average_speed_of_answer_seconds"] == stats_day["average_speed_of_answer_seconds"]
    assert day["abandon_rate"] == round(stats_day["abandoned"] / stats_day["received"], 4)
    range_stats = http.get(f"/api/stats?from={DAY - timedelta(days=1)}&to={DAY}",
                           headers=auth(tokens[Role.MONITOR])).json()
    seats = {s["seat_id"]: s for s in body["seats"]}
    for seat in range_stats["seats"]:
        assert seats[seat["seat_id"]]["answered"] == seat["answered"]
        assert seats[seat["seat_id"]]["pause_by_reason"] == seat["pause_by_reason"]
    funnel = body["funnel"]
    assert funnel["received"] == range_stats["voicemails"]["total"]
    assert funnel["invalid_by_reason"] == range_stats["voicemails"]["reasons"]["invalid"]
    # The funnel follows the range's own messages: the day's five callbacks (tests.reports.seed),
    # not the earlier messages' callbacks that closed in the range (/api/stats counts those).
    assert (funnel["called_back"], funnel["reached"]) == (3, 2)
    assert range_stats["callbacks"]["closed"] == 6 + 3
    assert funnel["valid"] >= funnel["called_back"] >= funnel["reached"]
    assert all(funnel["reason_names"][code] != code for code in funnel["invalid_by_reason"])


def test_exports_carry_chinese_headings(client) -> None:
    http, tokens = client
    query = f"from={DAY}&to={DAY}"
    csv = http.get(f"/api/reports/export.csv?{query}&table=hourly", headers=auth(tokens[Role.ADMIN]))
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert text.startswith("时段,") and "前四周同星期平均来电" in text
    xlsx = http.get(f"/api/reports/export.xlsx?{query}", headers=auth(tokens[Role.MONITOR]))
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["每日指标", "座席", "分时来电", "留言漏斗"]
    assert book["座席"]["A1"].value == "工号"
    assert book["分时来电"].max_row == 25
    body = http.get(f"/api/reports?{query}", headers=auth(tokens[Role.MONITOR])).json()
    seats = [[cell.value for cell in row] for row in book["座席"].iter_rows()]
    assert seats[0] == ["工号", "接听数", "通话时长(秒)", "平均处理时长(秒)", "小休时长(秒)",
                        *(f"小休：{reason}(秒)" for reason in body["pause_reasons"])]
    shown = {s["seat_id"]: s for s in body["seats"]}
    for row in seats[1:]:
        assert row[4:] == [shown[row[0]]["pause_seconds"],
                           *(shown[row[0]]["pause_by_reason"].get(r, 0) for r in body["pause_reasons"])]
    days = [[cell.value for cell in row] for row in book["每日指标"].iter_rows()]
    rate = days[0].index("放弃率")
    assert days[1][rate] == body["days"][0]["abandon_rate"]
    # Readable in Excel: the headings stay in view, a column fits its Chinese heading, a rate
    # shows as a percentage while the cell keeps the fraction.
    hourly = book["分时来电"]
    assert hourly.freeze_panes == "A2" and hourly["E1"].value.startswith("前四周同星期平均来电")
    assert hourly.column_dimensions["E"].width >= 2 * len("前四周同星期平均来电")
    assert book["每日指标"].cell(row=2, column=rate + 1).number_format == "0.0%"
    assert "各大厅与合计" not in book.sheetnames  # one hall: the page shows no halls table
    halls = http.get(f"/api/reports/export.csv?{query}&table=halls", headers=auth(tokens[Role.MONITOR]))
    assert halls.status_code == 200  # asked for anyway: the one hall and 合计 (was a 500)
    rows = halls.content.decode("utf-8-sig").splitlines()
    assert rows[0].startswith("大厅,来电数") and [r.split(",")[0] for r in rows[1:]] == [
        "12345政务服务便民热线", "合计"]


def test_refusals_are_clear_and_operators_are_not_supervisors(client) -> None:
    http, tokens = client
    outside = http.get(f"/api/reports?from={DAY}&to={DAY}&day={DAY + timedelta(days=3)}",
                       headers=auth(tokens[Role.MONITOR]))
    assert outside.status_code == 422 and outside.json()["error"]["code"] == "day_outside_range"
    backwards = http.get(f"/api/reports?from={DAY}&to={DAY - timedelta(days=2)}",
                         headers=auth(tokens[Role.MONITOR]))
    assert backwards.status_code == 422 and backwards.json()["error"]["code"] == "invalid_range"
    assert http.get("/api/reports", headers=auth(tokens[Role.OPERATOR])).status_code == 403


REFUSED = (  # query, code, the values the message may repeat as written
    (f"from={DAY}&to={DAY}&day={DAY + timedelta(days=3)}", "day_outside_range", ()),
    (f"from={DAY}&to={DAY - timedelta(days=2)}", "invalid_range", ()),
    (f"from={DAY - timedelta(days=400)}&to={DAY}", "range_too_long", ()),
    ("from=2026-02-30", "invalid_date", ()),
    ("to=2026-13-01", "invalid_date", ()),
    ("hall=east", "unknown_hall", ("east", "main")),
)


@pytest.mark.parametrize(("query", "code", "echoed"), REFUSED)
def test_bad_dates_and_halls_get_the_one_refusal_in_chinese(client, query: str, code: str,
                                                           echoed: tuple[str, ...]) -> None:
    """Every route of the reports and statistics answers the same registered refusal: its code and
    status, and a message in Chinese (Latin letters only in the values it repeats)."""
    http, tokens = client
    paths = ["/api/reports", "/api/reports/export.csv", "/api/reports/export.xlsx", "/api/stats",
             "/api/stats/export.csv"]
    for path in paths if code != "day_outside_range" else paths[:3]:
        answer = http.get(f"{path}?{query}", headers=auth(tokens[Role.MONITOR]))
        assert answer.status_code == REFUSALS[code].status == 422, (path, answer.text)
        error = answer.json()["error"]
        assert error["code"] == code and CJK.search(error["message"]), (path, error)
        words = error["message"]
        for value in echoed:
            words = words.replace(value, "")
        assert not re.search("[A-Za-z]", words), (path, error["message"])

"""/api/status from a Hall fed with recorded AMI events, and /api/stats with its CSV export, over a
store filled by hand: shapes, roles, errors, and the CSV read back as Excel would."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from hotline.api import create_app
from hotline.api.routes import metrics as metrics_routes
from hotline.api.routes import status as status_routes
from hotline.auth import Role, add_token
from hotline.config import HotlineConfig, load_config
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from hotline.reports.stats_api import router as stats_router
from hotline.status import SEAT_STATES, StoreCountsCache
from hotline.wiring import attach_bridge
from seat_manager.directory import Seat, SeatDirectory
from seat_manager.models import SeatStateChange
from telephony.hall import Hall, Halls
from telephony.live_counters import HallStats
from telephony.models import CallRecord
from telephony.picture import HallPicture
from tests.ami_transcripts import Replay, header_of, load_transcript
from tests.db.conftest import database_url, postgres_database, postgres_url, sqlite_url  # noqa: F401
from tests.reports.test_figures import DAY, NEXT, at, fill_store
from voicemail.models import Voicemail

REPO = Path(__file__).resolve().parents[2]
HALL_TZ = ZoneInfo("Asia/Shanghai")
CAPTURE_START = datetime.fromtimestamp(1795813120, tz=HALL_TZ)  # 2026-11-28 04:58:40 in the hall
WAITED = 42  # seconds the queued caller of capture 04 has waited when the status is taken
# The captures' seats (see tests/seat_manager/test_state.py).
SIP_SEAT = Seat.standard("01", "1001")
CUSTOM_SEAT = Seat.standard("02", "1002")
SEAT_03 = Seat.standard("03", "1003")
CITIZEN = "13812345678"  # the caller of recording 08
CITIZEN_LEG = header_of(load_transcript("08"), "Channel", "QueueCallerJoin")  # its bridged half


class PinnedHall(Hall):
    """The service's Hall, its clock pinned to the replayed captures."""

    pinned: datetime = CAPTURE_START

    def now(self) -> datetime:
        return self.pinned


def replayed_hall(config: HotlineConfig, sessions: sessionmaker[Session] | None,
                  seats: tuple[Seat, ...] = (SIP_SEAT, CUSTOM_SEAT, SEAT_03),
                  script: tuple[tuple[str, dict[str, str]], ...] = (
                      ("05", {"event": "QueueMemberPause", "Paused": "1"}),  # 02 paused, 03 offline
                      ("08", {"event": "BridgeEnter", "Channel": CITIZEN_LEG}),
                      ("04", {"event": "QueueCallerJoin"}),  # one caller waiting
                  )) -> PinnedHall:
    """A Hall whose board and counters were fed real AMI captures, each up to an event."""
    hall = PinnedHall(config, sessions)
    directory = SeatDirectory(seats)
    hall.picture = HallPicture(directory, config.queue.wrapup_seconds)
    hall.board, hall.calls = hall.picture.board, hall.picture.calls
    hall.stats = HallStats(config.queue.service_level_seconds, directory.seat_id_for_member)

    def feed(event: Any, now: datetime) -> list[Any]:
        hall.stats.apply(event, now)
        return hall.picture.apply(event, now)

    now = CAPTURE_START
    for name, until in script:
        run = Replay(load_transcript(name), feed, now)
        headers = dict(until)
        run.through(headers.pop("event"), **headers)
        now = run.now
    hall.pinned = now + timedelta(seconds=WAITED)
    return hall


def build(config: HotlineConfig, hall: Hall | Halls | None = None) -> FastAPI:
    """The app as the lead wires it: status and stats under /api, metrics at the root (one hall,
    or several)."""
    app = create_app(config, ami_status=hall,
                     extra_routers=[status_routes.router, stats_router])
    app.include_router(metrics_routes.router)
    if hall is not None:
        attach_bridge(app, hall)
    return app


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def sessions(config: HotlineConfig) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(config.database.url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def tokens(sessions: sessionmaker[Session]) -> dict[Role, str]:
    with session_scope(sessions) as session:
        return {role: add_token(session, f"{role.value}-t", role) for role in Role}


@pytest.fixture
def live(config: HotlineConfig, sessions: sessionmaker[Session]) -> Iterator[tuple[TestClient, PinnedHall]]:
    hall = replayed_hall(config, sessions)
    with TestClient(build(config, hall), raise_server_exceptions=False) as client:
        yield client, hall


@pytest.fixture
def bare(config: HotlineConfig) -> Iterator[TestClient]:
    """The service run with --no-bridge."""
    with TestClient(build(config), raise_server_exceptions=False) as client:
        yield client


# ----- /api/status -----------------------------------------------------------------------------


def test_status_sums_up_the_replayed_hall(live, tokens, sessions) -> None:
    client, hall = live
    with session_scope(sessions) as session:  # stored, not live: today's figures ignore it
        answered_at = hall.pinned - timedelta(minutes=1)
        session.add(CallRecord(call_key="today-1", outcome="answered", queue="hotline", seat_id="01",
                               started_at=answered_at, ended_at=answered_at + timedelta(seconds=30),
                               queue_wait_seconds=8, talk_seconds=30, three_way=False, detail={}))
        session.add(Voicemail(recording_id="r1", state="valid", call_time=hall.pinned))
        session.add(Voicemail(recording_id="r2", state="invalid", call_time=hall.pinned))
    body = client.get("/api/status", headers=auth(tokens[Role.MONITOR])).json()

    assert datetime.fromisoformat(body["generated_at"]) == hall.pinned
    assert body["ami"] == {"connected": False, "pbx_uptime_seconds": None, "node": None, "bridges": []}
    assert body["seats"] == {"total": 3, "by_state": {
        "offline": 1, "logged_out": 0, "available": 0, "ringing": 0, "on_call": 1, "wrap_up": 0, "paused": 1},
        "stale": False, "stale_since": None}
    assert list(body["seats"]["by_state"]) == list(SEAT_STATES)
    assert body["calls"] == {"in_progress": 2, "three_way": 0}  # 08's call and 04's waiting caller
    assert body["queue"] == {"waiting": 1, "longest_wait_seconds": float(WAITED)}
    assert body["voicemails"] == {"by_state": {"new": 0, "needs_review": 0, "valid": 1, "invalid": 1}}
    assert body["callbacks"] == {"by_state": {"queued": 0, "claimed": 0, "closed": 0}}
    assert body["today"] == {
        "day": "2026-11-28", "received": 1, "answered": 1, "abandoned": 0, "answer_rate": 1.0,
        "service_level": 1.0, "service_level_seconds": 15, "average_speed_of_answer_seconds": 0.0,
        "talk_seconds": 0}  # telephony/kpi.py: 04's caller still waits; all live, 08's HoldTime 0


def test_status_is_built_once_per_board_change_and_follows_it_at_once(config, sessions, tokens) -> None:
    """Between two changes the answer is reused (hotline.status.LiveSummaryCache, the encoded
    body in routes/status.py); the next event of the hall shows in the next answer."""
    hall = replayed_hall(config, sessions, script=(("05", {"event": "QueueMemberPause", "Paused": "1"}),))
    app = build(config, hall)
    with TestClient(app, raise_server_exceptions=False) as client:
        bodies = [client.get("/api/status", headers=auth(tokens[Role.MONITOR])).json() for _ in range(20)]
        assert all(body["seats"] == bodies[0]["seats"] for body in bodies)
        assert bodies[0]["calls"]["in_progress"] == 0
        assert app.state.status_live_summary.builds == 1

        def feed(event: Any, now: datetime) -> list[Any]:
            hall.stats.apply(event, now)
            return hall.picture.apply(event, now)

        Replay(load_transcript("08"), feed, hall.pinned).through("BridgeEnter", Channel=CITIZEN_LEG)
        after = client.get("/api/status", headers=auth(tokens[Role.MONITOR])).json()
    assert after["calls"]["in_progress"] == 1
    assert after["seats"]["by_state"]["on_call"] == bodies[0]["seats"]["by_state"]["on_call"] + 1


def test_status_before_the_first_call_of_a_new_day_is_zero(live, tokens) -> None:
    client, hall = live
    hall.pinned += timedelta(days=1)
    today = client.get("/api/status", headers=auth(tokens[Role.MONITOR])).json()["today"]
    assert today["day"] == "2026-11-29"
    assert (today["received"], today["answer_rate"], today["service_level"]) == (0, None, None)
    assert hall.stats.day == date(2026, 11, 28)  # reading never rolls the counters over


def test_status_without_the_bridge_still_counts_the_store(bare, tokens) -> None:
    body = bare.get("/api/status", headers=auth(tokens[Role.MONITOR])).json()
    assert body["seats"] is None and body["calls"] is None and body["queue"] is None
    assert body["today"] is None
    assert body["ami"]["connected"] is False
    assert body["voicemails"]["by_state"] == {"new": 0, "needs_review": 0, "valid": 0, "invalid": 0}


def test_status_is_for_every_role_and_shows_no_citizen_number(live, tokens) -> None:
    client, _ = live
    for role in Role:
        response = client.get("/api/status", headers=auth(tokens[role]))
        assert response.status_code == 200
        assert CITIZEN not in response.text
    anonymous = client.get("/api/status")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "missing_token"
    wrong = client.get("/api/status", headers=auth("not-a-token"))
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_token"


def test_store_counts_are_cached_for_the_ttl_and_refreshed_once(sessions) -> None:
    clock = [100.0]
    cache = StoreCountsCache(sessions, ttl=1.0, clock=lambda: clock[0])
    midnight = at(DAY, 0)

    async def scenario() -> list[int]:
        seen = []
        first = await asyncio.gather(*(cache.get(midnight) for _ in range(20)))
        seen.append(first[0].voicemails_by_state["valid"])
        with session_scope(sessions) as session:
            session.add(Voicemail(recording_id="late", state="valid", call_time=midnight))
        clock[0] += 0.5
        seen.append((await cache.get(midnight)).voicemails_by_state["valid"])  # within the TTL
        clock[0] += 0.6
        seen.append((await cache.get(midnight)).voicemails_by_state["valid"])
        seen.append((await cache.get(at(NEXT, 0))).voicemails_by_state["valid"])  # a new day: at once
        return seen

    assert asyncio.run(scenario()) == [0, 0, 1, 1]
    assert cache.refreshes == 3


# ----- /api/stats ------------------------------------------------------------------------------


def test_stats_over_a_range_from_the_store(bare, tokens, sessions) -> None:
    fill_store(sessions)
    response = bare.get(f"/api/stats?from={DAY - timedelta(days=1)}&to={NEXT}",
                        headers=auth(tokens[Role.MONITOR]))
    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"]) == (str(DAY - timedelta(days=1)), str(NEXT))
    assert (body["timezone"], body["service_level_seconds"]) == ("Asia/Shanghai", 15)
    assert [d["day"] for d in body["days"]] == [str(DAY - timedelta(days=1)), str(DAY), str(NEXT)]
    day = body["days"][1]
    assert (day["received"], day["answered"], day["abandoned"], day["answered_within_service_level"]) == \
        (7, 5, 2, 3)
    assert day["service_level"] == round(3 / 7, 4) and day["answer_rate"] == round(5 / 7, 4)
    assert day["average_speed_of_answer_seconds"] == 13.8 and day["peak_hour"] == 9
    assert (day["voicemails_invalid"], day["callbacks_done"], day["callbacks_unreachable"]) == (5, 3, 1)
    totals = body["totals"]
    assert (totals["received"], totals["abandoned"]) == (7 + 1 + 1, 2 + 1)  # the days before and after
    assert len(totals["received_by_hour"]) == 24 and sum(totals["received_by_hour"]) == 9
    seats = {s["seat_id"]: s for s in body["seats"]}
    assert len(seats) == 50  # every configured seat
    assert seats["01"]["pause_by_reason"] == {"培训": 30600.0 + 7200.0, "午休": 3600.0}
    assert seats["02"]["answered"] == 2 and seats["02"]["other_calls"] == 1
    assert body["voicemails"]["reasons"]["invalid"]["silence"] == 2
    assert body["voicemails"]["total"] == 13
    assert body["callbacks"] == {"closed": 7, "done": 4, "unreachable": 1, "by_resolution": {
        "resolved": 3, "transferred": 1, "wrong_number": 1, "declined": 0, "unreachable": 1, "withdrawn": 1}}


def test_stats_default_to_today(bare, tokens) -> None:
    before = datetime.now(HALL_TZ).date()
    body = bare.get("/api/stats", headers=auth(tokens[Role.MONITOR])).json()
    after = datetime.now(HALL_TZ).date()
    assert body["from"] == body["to"] and body["to"] in (str(before), str(after))
    only_to = bare.get("/api/stats?to=2026-11-02", headers=auth(tokens[Role.MONITOR])).json()
    assert (only_to["from"], only_to["to"]) == ("2026-11-02", "2026-11-02")


@pytest.mark.parametrize(("query", "code"), [
    ("from=2026-11-05&to=2026-11-01", "invalid_range"),
    ("from=2025-11-01&to=2026-11-02", "range_too_long"),
    ("from=2026-02-30", "invalid_date"),
    ("to=2026-13-01", "invalid_date"),
    ("from=20261101", "validation_error"),
    ("from=2026-11-1", "validation_error"),
    ("to=yesterday", "validation_error"),
    ("from=0001-01-01", "range_too_long"),
])
def test_stats_refuse_bad_ranges_with_json(bare, tokens, query: str, code: str) -> None:
    for path in ("/api/stats", "/api/stats/export.csv"):
        response = bare.get(f"{path}?{query}", headers=auth(tokens[Role.ADMIN]))
        assert response.status_code == 422
        assert response.json()["error"]["code"] == code


def test_a_full_year_and_the_ends_of_the_calendar_are_allowed(bare, tokens) -> None:
    response = bare.get("/api/stats?from=2025-11-02&to=2026-11-02", headers=auth(tokens[Role.MONITOR]))
    assert response.status_code == 200 and len(response.json()["days"]) == 366
    for first, last in (("0001-01-01", "0001-12-31"), ("9999-01-01", "9999-12-31")):
        for path in ("/api/stats", "/api/stats/export.csv"):
            edge = bare.get(f"{path}?from={first}&to={last}", headers=auth(tokens[Role.MONITOR]))
            assert edge.status_code == 200


def test_stats_need_a_token(bare, tokens) -> None:
    assert bare.get("/api/stats").status_code == 401
    assert bare.get("/api/stats/export.csv").status_code == 401
    for role in Role:
        assert bare.get("/api/stats", headers=auth(tokens[role])).status_code == 200


# ----- CSV -------------------------------------------------------------------------------------


def read_csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 only with the mark
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def test_days_csv_reads_back_with_chinese_headings(bare, tokens, sessions) -> None:
    fill_store(sessions)
    response = bare.get(f"/api/stats/export.csv?from={DAY}&to={NEXT}&table=days",
                        headers=auth(tokens[Role.MONITOR]))
    rows = read_csv(response)
    assert response.headers["content-disposition"] == \
        f'attachment; filename="hotline-days-{DAY}_{NEXT}.csv"'
    assert rows[0][:5] == ["日期", "来电数", "接通数", "放弃数", "15秒内接通数"]
    assert [r[0] for r in rows[1:]] == [str(DAY), str(NEXT), "合计"]
    day = dict(zip(rows[0], rows[1], strict=True))
    assert (day["来电数"], day["接通数"], day["放弃数"]) == ("7", "5", "2")
    assert day["服务水平"] == str(round(3 / 7, 4))
    assert (day["高峰时段"], day["无效留言"], day["回拨完成"]) == ("09:00-10:00", "5", "3")
    total = dict(zip(rows[0], rows[-1], strict=True))
    assert total["来电数"] == "8"
    assert response.content.count(b"\r\n") == len(rows)


def test_seats_csv_carries_pause_reasons_and_defuses_formulas(bare, tokens, sessions) -> None:
    fill_store(sessions)
    with session_scope(sessions) as session:
        for state, minute, reason in (("paused", 0, "=HYPERLINK(\"http://x\")"), ("available", 1, None)):
            session.add(SeatStateChange(seat_id="03", old_state="available", new_state=state,
                                        pause_reason=reason, at=at(DAY, 15, minute)))
    rows = read_csv(bare.get(f"/api/stats/export.csv?from={DAY}&to={DAY}&table=seats",
                             headers=auth(tokens[Role.OPERATOR])))
    assert rows[0] == ["工号", "接听数", "通话时长(秒)", "平均通话时长(秒)", "其他通话数", "其他通话时长(秒)",
                       "小休时长(秒)", "小休原因"]
    seats = {r[0]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert len(seats) == 50
    assert seats["01"]["小休原因"] == "培训 30600秒；午休 3600秒"
    assert seats["01"]["小休时长(秒)"] == "34200.0"
    assert seats["03"]["小休原因"] == "'=HYPERLINK(\"http://x\") 60秒"


def test_voicemail_reasons_csv(bare, tokens, sessions) -> None:
    fill_store(sessions)
    rows = read_csv(bare.get(f"/api/stats/export.csv?from={DAY}&to={DAY}&table=voicemail_reasons",
                             headers=auth(tokens[Role.MONITOR])))
    assert rows[0] == ["结论", "结论代码", "原因代码", "原因", "条数"]
    table = {(r[1], r[2]): (r[0], r[3], int(r[4])) for r in rows[1:]}
    assert table[("invalid", "silence")] == ("无效", "录音全程静音", 1)
    assert table[("invalid", "staff_override")] == ("无效", "人工改判", 1)
    assert table[("needs_review", "little_speech")] == ("待复核", "人声很少", 1)
    assert table[("valid", "triage")] == ("有效", "自动分拣", 1)
    assert sum(n for (verdict, _), (_, _, n) in table.items() if verdict == "invalid") == 5


def test_unknown_csv_table_is_refused(bare, tokens) -> None:
    response = bare.get("/api/stats/export.csv?table=calls", headers=auth(tokens[Role.MONITOR]))
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"


# ----- both databases --------------------------------------------------------------------------


def test_status_and_stats_on_both_databases(database_url: str) -> None:  # noqa: F811
    config = load_config(REPO / "hotline.conf", overrides={"database.url": database_url})
    upgrade_database(config)
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    try:
        fill_store(sessions)
        with session_scope(sessions) as session:
            token = add_token(session, "wallboard", Role.MONITOR)
        with TestClient(build(config, replayed_hall(config, sessions))) as client:
            status = client.get("/api/status", headers=auth(token)).json()
            stats = client.get(f"/api/stats?from={DAY}&to={DAY}", headers=auth(token)).json()
            rows = read_csv(client.get(f"/api/stats/export.csv?from={DAY}&to={DAY}&table=seats",
                                       headers=auth(token)))
    finally:
        engine.dispose()
    assert status["callbacks"]["by_state"] == {"queued": 1, "claimed": 1, "closed": 7}
    assert status["seats"]["total"] == 3
    assert (stats["totals"]["received"], stats["totals"]["answered_within_service_level"]) == (7, 3)
    assert stats["voicemails"]["invalid"] == 5
    assert next(r for r in rows if r[0] == "01")[7] == "培训 30600秒；午休 3600秒"

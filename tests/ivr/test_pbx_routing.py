"""Business-hours routing decided by the real dialplan, checked against HoursConfig.is_open."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest

from hotline.config import HotlineConfig
from tests.ivr.calls import route_of
from tests.ivr.pbx import IvrPbx

pytestmark = pytest.mark.pbx

SWEEP_CONCURRENCY = 20


def _expect(config: HotlineConfig, moment: str) -> str:
    return "open" if config.hours.is_open(datetime.fromisoformat(moment)) else "closed"


@pytest.mark.parametrize(("moment", "route", "reason"), [
    ("2026-11-26T17:29", "open", "weekly"),  # Thursday, one minute before closing
    ("2026-11-26T17:31", "closed", "weekly"),
    ("2026-11-26T08:29", "closed", "weekly"),
    ("2026-11-26T08:30", "open", "weekly"),
    ("2026-11-28T10:00", "closed", "weekly"),  # an ordinary Saturday
    ("2026-10-01T10:00", "closed", "holiday"),  # National Day, a Thursday
    ("2026-02-16T09:00", "closed", "holiday"),  # Spring Festival, a Monday
    ("2026-02-14T10:00", "open", "workday"),  # 调休 Saturday
    ("2026-02-14T17:31", "closed", "workday"),
    ("2026-09-27T08:30", "open", "workday"),  # 调休 Sunday
])
async def test_route_matches_is_open(pbx: IvrPbx, moment: str, route: str, reason: str) -> None:
    ami = await pbx.ami()
    event = await route_of(ami, pbx.local_time(moment))
    assert (event["Route"], event["Reason"]) == (route, reason)
    assert event["Route"] == _expect(pbx.config, moment)
    assert event["Forced"] == "1"
    day = datetime.fromisoformat(moment)
    assert (event["Date"], event["Weekday"], event["Time"]) == (
        day.strftime("%Y%m%d"), str(day.isoweekday()), day.strftime("%H%M"))


def _sweep(config: HotlineConfig) -> list[str]:
    """Every minute edge of the configured ranges on a week, the holidays and the 调休 days."""
    days = [date(2026, 11, 23) + timedelta(days=n) for n in range(7)]
    days += sorted(config.hours.holidays)[:3] + sorted(config.hours.workdays)
    ranges = [*config.hours.night_shift, *config.hours.workday_hours]
    for weekly in config.hours.weekly.values():
        ranges += weekly
    minutes = {0, 12 * 60, 24 * 60 - 1}
    for item in ranges:
        minutes |= {(edge + delta) % (24 * 60) for edge in (item.start, item.end)
                    for delta in (-1, 0)}
    return [f"{day.isoformat()}T{m // 60:02d}:{m % 60:02d}" for day in days
            for m in sorted(minutes)]


async def _check_sweep(target: IvrPbx) -> None:
    ami = await target.ami()
    limit = asyncio.Semaphore(SWEEP_CONCURRENCY)
    moments = _sweep(target.config)

    async def one(moment: str) -> tuple[str, str]:
        async with limit:
            return moment, (await route_of(ami, target.local_time(moment)))["Route"]

    results = await asyncio.gather(*(one(m) for m in moments))
    wrong = [(m, got) for m, got in results if got != _expect(target.config, m)]
    assert len(results) >= 90
    assert wrong == []


async def test_route_sweep_agrees_with_is_open(pbx: IvrPbx) -> None:
    await _check_sweep(pbx)


@pytest.mark.parametrize(("moment", "route", "reason"), [
    ("2026-10-01T20:00", "open", "night_shift"),  # holiday evening: the night shift answers
    ("2026-10-01T12:00", "closed", "holiday"),
    ("2026-11-28T03:00", "open", "night_shift"),  # Saturday night
    ("2026-11-28T12:00", "closed", "weekly"),
    ("2026-11-26T17:30", "open", "night_shift"),
    ("2026-11-26T08:29", "open", "night_shift"),
    ("2026-11-26T12:00", "open", "weekly"),
])
async def test_night_shift_routes(variant: IvrPbx, moment: str, route: str, reason: str) -> None:
    ami = await variant.ami()
    event = await route_of(ami, variant.local_time(moment))
    assert (event["Route"], event["Reason"]) == (route, reason)
    assert event["Route"] == _expect(variant.config, moment)


async def test_night_shift_sweep_agrees_with_is_open(variant: IvrPbx) -> None:
    await _check_sweep(variant)


async def test_without_a_forced_clock_the_pbx_clock_decides(pbx: IvrPbx) -> None:
    ami = await pbx.ami()
    start = len(ami.events)
    before = datetime.now(pbx.config.hall.tz)
    await ami.originate("Local/12345@hotline-entry/n", Application="Wait", Data="2")
    event = await ami.wait_event(lambda e: e.get("UserEvent") == "HotlineRoute", start=start)
    assert event["Forced"] == "0"
    assert abs(int(event["Epoch"]) - before.timestamp()) < 5
    now = datetime.fromtimestamp(int(event["Epoch"]), pbx.config.hall.tz)
    assert event["Route"] == ("open" if pbx.config.hours.is_open(now) else "closed")

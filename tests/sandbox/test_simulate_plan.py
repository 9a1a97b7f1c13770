"""The pure planning of `hotline sandbox simulate`: people, clocks, endpoints, seats, traffic."""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.config import load_config
from hotline.config.model import HoursConfig, TimeRange
from hotline.sandbox import simulate_plan as plan
from hotline.sandbox.simulate_plan import CallKind, LocalOwner, SeatRole

REPO = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Asia/Shanghai")  # hotline.conf's [hall] timezone
NUMBER = re.compile(r"^13[89]0000\d{4}$")
CJK_NAME = re.compile(r"^[\u4e00-\u9fff]{2,3}$")


@pytest.fixture(scope="module")
def hours() -> HoursConfig:
    config = load_config(REPO / "hotline.conf")
    assert config.hall.tz == TZ
    return config.hours


def test_citizens_are_distinct_with_realistic_names_and_fictional_mobiles() -> None:
    pool = plan.citizen_pool(random.Random(1), 24, 8)
    assert len(pool) == 32
    assert len({c.name for c in pool}) == 32 and len({c.number for c in pool}) == 32
    assert all(CJK_NAME.match(c.name) for c in pool)
    assert all(NUMBER.match(c.number) for c in pool)
    day = [c for c in pool if c.kind is CallKind.DAYTIME]
    night = [c for c in pool if c.kind is CallKind.AFTER_HOURS]
    assert [c.endpoint for c in day][:2] == ["simday01", "simday02"] and len(day) == 24
    assert night[0].endpoint == "simnight01" and len(night) == 8


def test_same_seed_same_people() -> None:
    assert plan.citizen_pool(random.Random(7), 5, 2) == plan.citizen_pool(random.Random(7), 5, 2)
    assert plan.citizen_pool(random.Random(7), 5, 2) != plan.citizen_pool(random.Random(8), 5, 2)


def test_a_message_says_the_callback_number_digit_by_digit() -> None:
    assert plan.spoken_number("13800001234") == "一三八零零零零一二三四"
    citizen = plan.Citizen("simnight01", "王芳", "13900005678", CallKind.AFTER_HOURS)
    text = plan.voicemail_text(random.Random(3), citizen)
    assert "王芳" in text and "我的电话是一三九零零零零五六七八" in text


def test_daytime_is_an_open_morning_even_on_holidays_and_weekends(hours: HoursConfig) -> None:
    wednesday = plan.daytime_moment(hours, TZ, date(2026, 11, 25))
    assert wednesday == datetime(2026, 11, 25, 10, 0, tzinfo=TZ)
    # National Day (a holiday, Thursday): back to the Wednesday before.
    national_day = plan.daytime_moment(hours, TZ, date(2026, 10, 1))
    assert national_day == datetime(2026, 9, 30, 10, 0, tzinfo=TZ)
    # Sunday 2026-09-27 is a 调休 working day: open.
    assert plan.daytime_moment(hours, TZ, date(2026, 9, 27)) == datetime(2026, 9, 27, 10, 0, tzinfo=TZ)
    # An ordinary Sunday: the Friday before.
    assert plan.daytime_moment(hours, TZ, date(2026, 11, 29)) == datetime(2026, 11, 27, 10, 0, tzinfo=TZ)
    for moment in (wednesday, national_day):
        assert moment is not None and hours.is_open(moment)


def test_after_hours_is_a_closed_evening_unless_there_is_a_night_shift(hours: HoursConfig) -> None:
    evening = plan.after_hours_moment(hours, TZ, date(2026, 11, 25))
    assert evening == datetime(2026, 11, 25, 20, 0, tzinfo=TZ)
    assert not hours.is_open(evening)
    all_day = replace(hours, night_shift=(TimeRange(0, 24 * 60),))
    assert plan.after_hours_moment(all_day, TZ, date(2026, 11, 25)) is None
    never = replace(hours, weekly={}, workdays=frozenset())
    assert plan.daytime_moment(never, TZ, date(2026, 11, 25)) is None


def test_pjsip_local_gives_each_citizen_its_caller_id_and_clock() -> None:
    citizens = plan.citizen_pool(random.Random(2), 2, 1)
    epochs = {CallKind.DAYTIME: 1795000000, CallKind.AFTER_HOURS: 1795040000}
    text = plan.pjsip_local_text(citizens, "pw123", epochs, owner_pid=4242)
    day, night = citizens[0], citizens[2]
    assert text.startswith("; hotline sandbox simulate: demo citizens (pid 4242).")
    assert f"[{day.endpoint}](hotline-phone)\ncontext=hotline-citizens\n" in text
    assert f'callerid="{day.name}" <{day.number}>\nset_var=HOTLINE_NOW=1795000000' in text
    assert f'callerid="{night.name}" <{night.number}>\nset_var=HOTLINE_NOW=1795040000' in text
    assert text.count("password=pw123") == 3
    assert plan.pjsip_owner(text) == (LocalOwner.SIMULATION, 4242)


@pytest.mark.parametrize(("text", "owner"), [
    (None, LocalOwner.EMPTY), ("", LocalOwner.EMPTY), ("\n  \n", LocalOwner.EMPTY),
    ("[citizen1](hotline-phone)\n", LocalOwner.FOREIGN),
    ("; my own test phones\n[x]\n", LocalOwner.FOREIGN),
])
def test_a_pjsip_local_that_is_not_ours_is_recognised(text: str | None, owner: LocalOwner) -> None:
    assert plan.pjsip_owner(text) == (owner, None)


def test_roster_of_twelve_shows_every_colour() -> None:
    seats = [f"{n:02d}" for n in range(1, 13)]
    roster = plan.plan_roster(seats, random.Random(5))
    assert [s.seat_id for s in roster] == seats
    paused = [s for s in roster if s.role is SeatRole.PAUSED]
    assert sorted(s.reason for s in paused) == sorted(plan.PAUSE_REASONS)
    assert len([s for s in roster if s.role is SeatRole.LOGGED_OUT]) == 1
    assert len([s for s in roster if s.role is SeatRole.AVAILABLE]) == 9


@pytest.mark.parametrize(("count", "available", "paused"), [(1, 1, 0), (2, 2, 0), (3, 2, 1), (6, 5, 1)])
def test_small_rosters_keep_seats_taking_calls(count: int, available: int, paused: int) -> None:
    roster = plan.plan_roster([f"{n:02d}" for n in range(1, count + 1)], random.Random(1))
    assert len([s for s in roster if s.role is SeatRole.AVAILABLE]) == available
    assert len([s for s in roster if s.role is SeatRole.PAUSED]) == paused


def test_continuous_traffic_arrives_at_the_asked_rate() -> None:
    stream = plan.continuous_calls(random.Random(11), 3.0)
    calls = [next(stream) for _ in range(3000)]
    assert all(b.at > a.at for a, b in itertools.pairwise(calls))
    mean_gap = calls[-1].at / len(calls)
    assert 18.0 < mean_gap < 22.0  # 3 per minute: one every 20 s on average
    night = sum(c.kind is CallKind.AFTER_HOURS for c in calls) / len(calls)
    assert abs(night - plan.AFTER_HOURS_SHARE) < 0.03
    threeway = [c for c in calls if c.threeway]
    assert threeway and all(c.kind is CallKind.DAYTIME for c in threeway)


def test_without_after_hours_every_call_is_daytime() -> None:
    stream = plan.continuous_calls(random.Random(1), 6.0, after_hours=False)
    assert all(next(stream).kind is CallKind.DAYTIME for _ in range(200))
    with pytest.raises(ValueError):
        next(plan.continuous_calls(random.Random(1), 0))


def test_once_scenario_is_fixed() -> None:
    calls = plan.once_calls(3, 2)
    assert [c.kind for c in calls].count(CallKind.DAYTIME) == 3
    assert [c.kind for c in calls].count(CallKind.AFTER_HOURS) == 2
    assert [c.threeway for c in calls if c.kind is CallKind.DAYTIME] == [True, False, False]
    assert [c.at for c in calls] == sorted(c.at for c in calls)
    assert not any(c.threeway for c in plan.once_calls(2, 1, threeway=False))


def test_fast_timing_is_shorter() -> None:
    fast, normal = plan.Timing.fast(), plan.Timing.normal()
    assert fast.talk.high < normal.talk.low
    assert normal.ring == plan.Span(1, 6) and normal.talk == plan.Span(15, 90)
    rng = random.Random(4)
    assert all(1 <= normal.ring.draw(rng) <= 6 for _ in range(100))


def _expert(name: str, extension: str | None, on_duty: bool) -> dict[str, object]:
    return {"name": name, "extension": extension, "number": None if extension else "13800138000",
            "on_duty": on_duty}


def test_three_way_goes_to_a_department_whose_first_expert_on_duty_answers() -> None:
    departments = [
        {"name": "住房和城乡建设局",
         "experts": [_expert("王建国", "2001", False), _expert("李明", "2002", True)]},
        {"name": "供水集团", "experts": [_expert("刘强", None, True)]},
        {"name": "市场监督管理局", "experts": [_expert("赵芳", "2003", True)]},
    ]
    rng = random.Random(0)
    assert plan.choose_department(departments, {"2002"}, rng) == "住房和城乡建设局"
    assert plan.choose_department(departments, {"2001"}, rng) is None
    assert {plan.choose_department(departments, {"2002", "2003"}, random.Random(s))
            for s in range(20)} == {"住房和城乡建设局", "市场监督管理局"}
    assert plan.choose_department(departments, set(), rng) is None


def test_a_continuous_night_leaves_the_whole_mix_and_repeats_only_after_a_message() -> None:
    import collections

    citizen = plan.Citizen("simnight01", "张三", "13800001111", plan.CallKind.AFTER_HOURS)
    rng = random.Random(7)
    kinds = collections.Counter(plan.night_message(rng, citizen, True).kind for _ in range(400))
    assert set(kinds) == set(plan.NightKind)
    first = {plan.night_message(random.Random(seed), citizen, False).kind for seed in range(200)}
    assert plan.NightKind.DUPLICATE not in first, "a repeat needs an earlier spoken message"
    spoken = plan.night_message(random.Random(3), citizen, False)
    assert all(k in plan.NIGHT_KIND_ZH for k in plan.NightKind)
    assert (spoken.text != "") == (spoken.kind in (plan.NightKind.SPEECH, plan.NightKind.NO_SPOKEN_NUMBER))


def test_the_night_mix_without_speech_is_what_triage_calls_invalid(tmp_path: Path) -> None:
    """The demo's silent, keyed, noisy and beep-hang-up messages are sorted out by the audio alone."""
    import asyncio
    from datetime import UTC, datetime

    from hotline.config.remit import RemitTable
    from hotline.config.triage import TriageSettings
    from hotline.sandbox.simulate_io import Voices
    from voicemail.audio_analysis import analyze_file
    from voicemail.triage import ReasonCode, TriageInput, triage

    expected = {plan.NightKind.SILENCE: ReasonCode.SILENCE, plan.NightKind.TONES: ReasonCode.TONES_ONLY,
                plan.NightKind.NOISE: ReasonCode.NOISE_ONLY,
                plan.NightKind.BEEP_HANGUP: ReasonCode.HANGUP_AT_BEEP}
    voices = Voices(tmp_path, tmp_path)
    for kind, reason in expected.items():
        path = asyncio.run(voices.night_audio(kind.value, plan.NightMessage(kind, ""), 0.5))
        decision = triage(TriageInput(kind.value, datetime.now(UTC)), analyze_file(path), None,
                          "13800001111", [], TriageSettings(), RemitTable(()))
        assert decision.verdict == "invalid" and decision.reasons[0].code is reason, (kind, decision)

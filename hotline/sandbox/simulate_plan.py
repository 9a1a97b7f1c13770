"""Pure planning for `hotline sandbox simulate`: who calls, when, and what each seat does.

Nothing here touches a phone, the PBX or the network: every choice is drawn from a seeded
`random.Random`, so a run with `--seed` is reproducible and the plan can be unit-tested.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from hotline.config.model import HoursConfig
from ivr.names import CITIZENS_CONTEXT, FORCED_NOW_VARIABLE
from ivr.pjsip import PHONE_TEMPLATE

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢"
            "宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈")
GIVEN_NAMES = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
               "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "志强", "海燕",
               "红梅", "国庆", "晓东", "春梅", "丽华", "文博", "子涵", "雨欣", "浩然", "俊杰")
# Fictional mobile numbers: 138/139, then 0000, then four digits.
NUMBER_PREFIXES = ("138", "139")
NUMBER_MIDDLE = "0000"
NUMBER_SUFFIX_SPACE = 10_000
DAY_ENDPOINT_PREFIX = "simday"
NIGHT_ENDPOINT_PREFIX = "simnight"
SPOKEN_DIGITS = dict(zip("0123456789", "零一二三四五六七八九", strict=True))

DAYTIME_SENTENCES = (
    "你好，我们小区已经停水两天了，请问什么时候能恢复供水？",
    "我想反映一下，楼下的饭店油烟太大，影响居民休息。",
    "请问社保卡丢了，应该去哪里补办？",
    "我家门口的路灯坏了好几天了，晚上走路很不安全。",
    "小区的电梯又坏了，老人上下楼很不方便，希望尽快维修。",
    "我在网上买的东西有质量问题，商家不给退款，我要投诉。",
    "请问公积金提取需要准备哪些材料？",
    "我们这边的燃气表好像有问题，想请人上门看一下。",
)
VOICEMAIL_SENTENCES = (
    "你好，我是{name}，我们小区晚上突然停电了，麻烦明天联系我，我的电话是{digits}。",
    "你好，我叫{name}，楼道里的水管漏水很严重，请尽快处理，我的电话是{digits}。",
    "你好，我是{name}，想咨询一下孩子入学的事情，请回电，我的电话是{digits}。",
    "你好，我是{name}，附近工地晚上施工噪音太大，我的电话是{digits}，谢谢。",
)
OPERATOR_GREETING = "您好，幺二三四五热线，请问有什么可以帮您？"

PAUSE_REASONS = ("小休", "培训")
PAUSED_SHARE = 0.17  # of the simulated seats: 12 seats -> 2 paused, 3 seats -> 1 paused
LOGGED_OUT_DIVISOR = 8  # one seat in eight stays logged out, so the wallboard shows that too

DAYTIME_HOUR = 10
AFTER_HOURS_HOUR = 20
MOMENT_SEARCH_DAYS = 400

AFTER_HOURS_SHARE = 0.2  # of the calls in a continuous run
THREEWAY_SHARE = 0.15  # of the daytime calls in a continuous run
ONCE_SPACING_S = 2.0  # between the calls of the fixed scenario

PJSIP_HEADER = "; hotline sandbox simulate: demo citizens"
PJSIP_OWNER = re.compile(r"^; hotline sandbox simulate: demo citizens \(pid (\d+)\)")


class SeatRole(Enum):
    AVAILABLE = "available"
    PAUSED = "paused"
    LOGGED_OUT = "logged_out"


class CallKind(Enum):
    DAYTIME = "daytime"
    AFTER_HOURS = "after_hours"


class LocalOwner(Enum):
    """Whose pjsip_local.conf is in the sandbox."""

    EMPTY = "empty"  # missing or blank: free to use
    SIMULATION = "simulation"  # written by a simulation (perhaps one that crashed)
    FOREIGN = "foreign"  # somebody else's: never overwritten


@dataclass(frozen=True)
class Citizen:
    """One citizen endpoint in the sandbox: reaches only 12345, with its clock forced."""

    endpoint: str
    name: str
    number: str
    kind: CallKind


@dataclass(frozen=True)
class SeatPlan:
    seat_id: str
    role: SeatRole
    reason: str | None = None


@dataclass(frozen=True)
class PlannedCall:
    """One citizen call: when (seconds from the start of traffic), which kind, and whether the
    seat that answers it brings in an expert (三方通话)."""

    at: float
    kind: CallKind
    threeway: bool = False


@dataclass(frozen=True)
class Span:
    """A closed range of seconds to draw from."""

    low: float
    high: float

    def draw(self, rng: random.Random) -> float:
        return rng.uniform(self.low, self.high)


@dataclass(frozen=True)
class Timing:
    """How long people take: ringing before a pick-up, talking, waiting in the queue."""

    ring: Span
    talk: Span
    threeway_lead: Span  # talking before the operator asks for an expert
    conference: Span  # all three talking before the operator ends the call
    patience: float  # a daytime caller gives up after this long without the call ending
    rotation: Span  # a paused seat resumes and another pauses this often (continuous runs)

    @classmethod
    def normal(cls) -> Timing:
        return cls(ring=Span(1, 6), talk=Span(15, 90), threeway_lead=Span(5, 15),
                   conference=Span(15, 40), patience=300.0, rotation=Span(120, 240))

    @classmethod
    def fast(cls) -> Timing:
        return cls(ring=Span(1, 3), talk=Span(4, 10), threeway_lead=Span(2, 4),
                   conference=Span(4, 8), patience=150.0, rotation=Span(30, 60))


# --- citizens -----------------------------------------------------------------------------------

def citizen_names(rng: random.Random, count: int) -> list[str]:
    """`count` distinct, realistic full names."""
    if count > len(SURNAMES) * len(GIVEN_NAMES):
        raise ValueError(f"cannot make {count} distinct names")
    names: list[str] = []
    while len(names) < count:
        name = rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)
        if name not in names:
            names.append(name)
    return names


def mobile_numbers(rng: random.Random, count: int) -> list[str]:
    """`count` distinct fictional 138/139 numbers (1380000xxxx)."""
    if count > len(NUMBER_PREFIXES) * NUMBER_SUFFIX_SPACE:
        raise ValueError(f"cannot make {count} distinct numbers")
    numbers: list[str] = []
    while len(numbers) < count:
        number = (rng.choice(NUMBER_PREFIXES) + NUMBER_MIDDLE
                  + f"{rng.randrange(NUMBER_SUFFIX_SPACE):04d}")
        if number not in numbers:
            numbers.append(number)
    return numbers


def citizen_pool(rng: random.Random, daytime: int, after_hours: int) -> list[Citizen]:
    """Distinct citizens: `daytime` who call while the hall is open, `after_hours` at night."""
    total = daytime + after_hours
    names, numbers = citizen_names(rng, total), mobile_numbers(rng, total)
    pool = [Citizen(f"{DAY_ENDPOINT_PREFIX}{i + 1:02d}", names[i], numbers[i], CallKind.DAYTIME)
            for i in range(daytime)]
    pool += [Citizen(f"{NIGHT_ENDPOINT_PREFIX}{i + 1:02d}", names[daytime + i],
                     numbers[daytime + i], CallKind.AFTER_HOURS) for i in range(after_hours)]
    return pool


class NightKind(Enum):
    """What an after-hours caller leaves: the mix a morning screener meets (issue 12)."""

    SPEECH = "speech"  # a request with the number spoken
    NO_SPOKEN_NUMBER = "no_spoken_number"  # a request; the caller id is the only number
    DUPLICATE = "duplicate"  # the same citizen again, a shorter repeat of an earlier message
    SILENCE = "silence"  # says nothing until the time runs out
    TONES = "tones"  # keys digits (an IVR habit) instead of speaking
    NOISE = "noise"  # street noise, nobody speaking
    BEEP_HANGUP = "beep_hangup"  # hangs up at the beep


NIGHT_MIX: tuple[tuple[NightKind, int], ...] = (
    (NightKind.SPEECH, 4), (NightKind.NO_SPOKEN_NUMBER, 2), (NightKind.DUPLICATE, 1),
    (NightKind.SILENCE, 1), (NightKind.TONES, 1), (NightKind.NOISE, 1), (NightKind.BEEP_HANGUP, 1))
NIGHT_KIND_ZH = {NightKind.SPEECH: "留言并报出电话号码", NightKind.NO_SPOKEN_NUMBER: "留言，未报电话号码",
                 NightKind.DUPLICATE: "重复留言（同一市民）", NightKind.SILENCE: "一言不发",
                 NightKind.TONES: "只按了按键", NightKind.NOISE: "只有街道噪声",
                 NightKind.BEEP_HANGUP: "提示音后即挂机"}
NO_NUMBER_SENTENCES = (
    "你好，我是{name}，我家楼下的路灯坏了好几天了，晚上很黑，请派人修一下。",
    "你好，我叫{name}，小区门口的垃圾好几天没人清运了，请处理一下。",
)
REPEAT_SENTENCE = "你好，还是我，{name}，刚才说的事情麻烦尽快处理。"


@dataclass(frozen=True)
class NightMessage:
    kind: NightKind
    text: str  # what is said; empty for the kinds with no speech


def night_message(rng: random.Random, citizen: Citizen, said_before: bool) -> NightMessage:
    """The next message of a night caller, drawn from NIGHT_MIX; a repeat needs an earlier one."""
    kinds, weights = zip(*NIGHT_MIX, strict=True)
    kind = rng.choices(kinds, weights)[0]
    if kind is NightKind.DUPLICATE and not said_before:
        kind = NightKind.SPEECH
    if kind is NightKind.SPEECH:
        return NightMessage(kind, voicemail_text(rng, citizen))
    if kind is NightKind.NO_SPOKEN_NUMBER:
        return NightMessage(kind, rng.choice(NO_NUMBER_SENTENCES).format(name=citizen.name))
    if kind is NightKind.DUPLICATE:
        return NightMessage(kind, REPEAT_SENTENCE.format(name=citizen.name))
    return NightMessage(kind, "")


def spoken_number(number: str) -> str:
    """A phone number as a caller says it, digit by digit: 138… -> 一三八…"""
    return "".join(SPOKEN_DIGITS.get(ch, ch) for ch in number)


def voicemail_text(rng: random.Random, citizen: Citizen) -> str:
    """What an after-hours caller says: the problem, the name, and a callback number."""
    template = rng.choice(VOICEMAIL_SENTENCES)
    return template.format(name=citizen.name, digits=spoken_number(citizen.number))


# --- the clock each citizen endpoint forces -----------------------------------------------------

def find_moment(hours: HoursConfig, tz: ZoneInfo, today: date, hour: int, *,
                open_wanted: bool) -> datetime | None:
    """The latest day up to `today` whose `hour`:00 is open (or closed) by the hall's hours,
    holidays and 调休 days; None when no day in a year and a bit qualifies."""
    for back in range(MOMENT_SEARCH_DAYS):
        moment = datetime.combine(today - timedelta(days=back), time(hour), tzinfo=tz)
        if hours.is_open(moment) == open_wanted:
            return moment
    return None


def daytime_moment(hours: HoursConfig, tz: ZoneInfo, today: date) -> datetime | None:
    """A morning at 10:00 when the hall is open (a weekday that is no holiday, or a 调休 day)."""
    return find_moment(hours, tz, today, DAYTIME_HOUR, open_wanted=True)


def after_hours_moment(hours: HoursConfig, tz: ZoneInfo, today: date) -> datetime | None:
    """An evening at 20:00 when the hall is closed (None with a 7x24 night shift)."""
    return find_moment(hours, tz, today, AFTER_HOURS_HOUR, open_wanted=False)


# --- pjsip_local.conf -----------------------------------------------------------------------------

def pjsip_local_text(citizens: Sequence[Citizen], password: str, epochs: Mapping[CallKind, int],
                     owner_pid: int) -> str:
    """The sandbox's pjsip_local.conf: one endpoint per citizen with its caller id and clock."""
    lines = [f"{PJSIP_HEADER} (pid {owner_pid}).",
             "; Written and removed by `hotline sandbox simulate`; do not edit.", ""]
    for citizen in citizens:
        endpoint = citizen.endpoint
        lines += [
            f"[{endpoint}]({PHONE_TEMPLATE})",
            f"context={CITIZENS_CONTEXT}",
            f"auth={endpoint}",
            f"aors={endpoint}",
            f'callerid="{citizen.name}" <{citizen.number}>',
            f"set_var={FORCED_NOW_VARIABLE}={epochs[citizen.kind]}",
            f"[{endpoint}]",
            "type=auth",
            "auth_type=userpass",
            f"username={endpoint}",
            f"password={password}",
            f"[{endpoint}]",
            "type=aor",
            "max_contacts=1",
            "remove_existing=yes",
            "",
        ]
    return "\n".join(lines)


def pjsip_owner(text: str | None) -> tuple[LocalOwner, int | None]:
    """Who wrote a pjsip_local.conf, and the pid of the simulation that did."""
    if text is None or not text.strip():
        return LocalOwner.EMPTY, None
    match = PJSIP_OWNER.match(text)
    if match is None:
        return LocalOwner.FOREIGN, None
    return LocalOwner.SIMULATION, int(match.group(1))


# --- seats ------------------------------------------------------------------------------------------

def plan_roster(seat_ids: Sequence[str], rng: random.Random) -> list[SeatPlan]:
    """Which simulated seats take calls, which are paused (and why), which stay logged out.

    At least one seat always takes calls; the reasons alternate so each one shows.
    """
    count = len(seat_ids)
    paused = round(count * PAUSED_SHARE)
    logged_out = count // LOGGED_OUT_DIVISOR
    while count - paused - logged_out < 1 and (paused or logged_out):
        if logged_out:
            logged_out -= 1
        else:
            paused -= 1
    order = list(seat_ids)
    rng.shuffle(order)
    roles: dict[str, SeatPlan] = {}
    for i, seat_id in enumerate(order[:paused]):
        roles[seat_id] = SeatPlan(seat_id, SeatRole.PAUSED, PAUSE_REASONS[i % len(PAUSE_REASONS)])
    for seat_id in order[paused:paused + logged_out]:
        roles[seat_id] = SeatPlan(seat_id, SeatRole.LOGGED_OUT)
    return [roles.get(seat_id, SeatPlan(seat_id, SeatRole.AVAILABLE)) for seat_id in seat_ids]


# --- traffic ------------------------------------------------------------------------------------------

def continuous_calls(rng: random.Random, rate_per_minute: float, *,
                     after_hours: bool = True) -> Iterator[PlannedCall]:
    """An endless stream of calls arriving at random (Poisson) with the given mean rate."""
    if rate_per_minute <= 0:
        raise ValueError("the call rate must be positive")
    at = 0.0
    while True:
        at += rng.expovariate(rate_per_minute / 60.0)
        if after_hours and rng.random() < AFTER_HOURS_SHARE:
            yield PlannedCall(at, CallKind.AFTER_HOURS)
        else:
            yield PlannedCall(at, CallKind.DAYTIME, threeway=rng.random() < THREEWAY_SHARE)


def once_calls(daytime: int, after_hours: int, *, threeway: bool = True) -> list[PlannedCall]:
    """The fixed scenario of `--once`: the first daytime call gets the three-way, the messages
    are interleaved with the daytime calls, each call a little after the previous one."""
    calls = [PlannedCall(i * ONCE_SPACING_S, CallKind.DAYTIME, threeway=threeway and i == 0)
             for i in range(daytime)]
    calls += [PlannedCall((i + 0.5) * ONCE_SPACING_S, CallKind.AFTER_HOURS)
              for i in range(after_hours)]
    return sorted(calls, key=lambda call: call.at)


# --- three-way --------------------------------------------------------------------------------------

def choose_department(departments: Sequence[Mapping[str, Any]], our_extensions: set[str],
                      rng: random.Random) -> str | None:
    """A department whose first expert on duty now is one of our answering phones (so the
    three-way call connects without ringing out); None when no department qualifies.

    `departments` is GET /api/threeway/departments: experts listed in the order they are tried.
    """
    good = []
    for department in departments:
        on_duty = [e for e in department.get("experts", []) if e.get("on_duty")]
        if on_duty and on_duty[0].get("extension") in our_extensions:
            good.append(str(department["name"]))
    return rng.choice(good) if good else None

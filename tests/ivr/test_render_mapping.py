"""hotline.conf -> Asterisk files: each setting lands where Asterisk reads it."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from hotline.config import HotlineConfig, load_config
from hotline.config.model import TimeRange
from ivr import prompts
from ivr.dialplan import render_dialplan
from ivr.errors import RenderError
from ivr.hours import hhmm, open_expression, range_condition
from ivr.manager import READ_CLASSES, WRITE_CLASSES, permitted_hosts, render_manager
from ivr.modules import modules_for, render_modules
from ivr.pjsip import render_pjsip
from ivr.queues import render_queues
from ivr.rtp import render_rtp
from tests.ivr.conf_text import blocks, contexts, typed

TRUNK = {"trunk.host": "192.0.2.10", "trunk.port": "5070", "trunk.username": "hall12345",
         "trunk.password": "trunk-pw", "trunk.prefix": "9"}


def test_hhmm_and_range_conditions() -> None:
    assert hhmm(8 * 60 + 30) == 830
    assert hhmm(24 * 60) == 2400
    assert range_condition(TimeRange(510, 1050)) == "(${HOTLINE_HM} >= 830 & ${HOTLINE_HM} < 1730)"
    assert range_condition(TimeRange(0, 510)) == "(${HOTLINE_HM} < 830)"
    assert range_condition(TimeRange(1050, 1440)) == "(${HOTLINE_HM} >= 1730)"
    assert open_expression(()) == "0"
    assert open_expression((TimeRange(0, 1440),)) == "1"
    assert open_expression((TimeRange(780, 1050), TimeRange(510, 720))) == (
        "$[(${HOTLINE_HM} >= 830 & ${HOTLINE_HM} < 1200) | "
        "(${HOTLINE_HM} >= 1300 & ${HOTLINE_HM} < 1730)]")


def _evaluate(expression: str, hm: int) -> bool:
    """Our rendered $[...] subset in Python: comparisons joined by & and |."""
    if expression in ("0", "1"):
        return expression == "1"
    body = expression.removeprefix("$[").removesuffix("]").replace("${HOTLINE_HM}", str(hm))
    assert re.fullmatch(r"[0-9 ()<>=&|]+", body), body
    return bool(eval(body.replace("&", " and ").replace("|", " or ")))  # the charset is checked above


def _decide(dialplan: dict[str, list[str]], moment: datetime) -> bool:
    """Walk the rendered hotline-hours context the way Asterisk does."""
    hours = dialplan["hotline-hours"]
    day, hm = moment.strftime("%Y%m%d"), int(moment.strftime("%H%M"))

    def exten_steps(name: str) -> list[str]:
        start = next(i for i, line in enumerate(hours) if line.startswith(f"exten => {name},"))
        steps = [hours[start]]
        steps += [line for line in hours[start + 1:] if line.startswith("same")][:2]
        return steps

    def opened(name: str) -> bool:
        first = exten_steps(name)[0]
        return _evaluate(first.split("Set(HOTLINE_OPEN=", 1)[1][:-1], hm)

    for line in hours:
        night = re.search(r"GotoIf\((\$\[.*\])\?night,1\)", line)
        if night and _evaluate(night.group(1), hm):
            return True
    if any(line.startswith(f"exten => {day},") for line in dialplan["hotline-holidays"]):
        return opened("holiday")
    if any(line.startswith(f"exten => {day},") for line in dialplan["hotline-workdays"]):
        return opened("workday")
    return opened(f"weekday-{moment.isoweekday()}")


def _moments(config: HotlineConfig) -> list[datetime]:
    """Every day of 2026 at every range edge -1/0/+1 minute, plus each half hour."""
    edges: set[int] = set(range(0, 24 * 60, 30))
    ranges = [*config.hours.night_shift, *config.hours.workday_hours]
    for day_ranges in config.hours.weekly.values():
        ranges += day_ranges
    for item in ranges:
        for edge in (item.start, item.end):
            edges |= {(edge + delta) % (24 * 60) for delta in (-1, 0, 1)}
    day = date(2026, 1, 1)
    result = []
    while day.year == 2026:
        result += [datetime(day.year, day.month, day.day, m // 60, m % 60) for m in sorted(edges)]
        day += timedelta(days=1)
    return result


@pytest.mark.parametrize("overrides", [
    {},
    {"hours.night_shift": "17:30-08:30"},
    {"hours.night_shift": "22:00-06:00", "hours.saturday": "09:00-12:00",
     "hours.monday": "08:30-12:00, 13:30-17:30", "hours.workday_hours": "09:00-17:00"},
    {"hours.sunday": "00:00-24:00"},
], ids=["shipped", "7x24", "split-and-night", "sunday-all-day"])
def test_rendered_hours_decide_like_is_open_all_year(hall_conf: Path,
                                                     overrides: dict[str, str]) -> None:
    config = load_config(hall_conf, overrides=overrides)
    dialplan = contexts(render_dialplan(config).decode("utf-8"))
    mismatches = [m for m in _moments(config) if _decide(dialplan, m) != config.hours.is_open(m)]
    assert not mismatches[:5]


def test_no_clock_time_reaches_an_expression(hall_conf: Path) -> None:
    """IF()/ExecIf() split on ':': no HH:MM may appear in any dialplan step."""
    config = load_config(hall_conf, overrides={"hours.night_shift": "17:30-08:30"})
    text = render_dialplan(config).decode("utf-8")
    steps = [line for line in text.splitlines() if line.startswith(("exten", " same"))]
    assert steps
    assert not [line for line in steps if re.search(r"\d:\d\d", line)]


def test_dialplan_never_reaches_a_shell(hall: HotlineConfig) -> None:
    text = render_dialplan(hall).decode("utf-8")
    for forbidden in ("System(", "TrySystem(", "SHELL(", "AGI("):
        assert forbidden not in text


def test_holidays_and_workdays_become_extensions(hall: HotlineConfig) -> None:
    dialplan = contexts(render_dialplan(hall).decode("utf-8"))
    holidays = {line.split(",")[0].split()[-1] for line in dialplan["hotline-holidays"]}
    workdays = {line.split(",")[0].split()[-1] for line in dialplan["hotline-workdays"]}
    assert holidays == {d.strftime("%Y%m%d") for d in hall.hours.holidays}
    assert workdays == {d.strftime("%Y%m%d") for d in hall.hours.workdays}


def test_entry_queue_and_overflow_steps(hall: HotlineConfig, hall_conf: Path) -> None:
    dialplan = contexts(render_dialplan(hall).decode("utf-8"))
    assert dialplan["hotline-citizens"] == ["exten => 12345,1,Goto(hotline-entry,12345,1)"]
    entry = "\n".join(dialplan["hotline-entry"])
    assert "exten => 12345,1,Goto(s,1)" in entry
    assert "Set(CHANNEL(language)=zh)" in entry
    assert "UserEvent(HotlineRoute,Route: ${HOTLINE_DECISION},Reason: ${HOTLINE_REASON}" in entry
    opened = "\n".join(dialplan["hotline-open"])
    assert "Queue(hotline,r,,,120)" in opened
    assert "Read(HOTLINE_CHOICE,hotline/overflow,1,,1,5)" in opened
    assert ("Read(HOTLINE_KEYED,hotline/greeting&hotline/recording-notice&hotline/named-operator,"
            "2,,1,1.5)") in opened
    never = contexts(render_dialplan(load_config(
        hall_conf, overrides={"queue.overflow_seconds": "0"})).decode("utf-8"))
    assert "Queue(hotline,r)" in "\n".join(never["hotline-open"])
    for ctx in ("hotline-seats", "hotline-experts"):
        assert dialplan[ctx][0] == "include => hotline-citizens"


def test_each_seat_is_a_member_context_announcing_its_id(hall: HotlineConfig) -> None:
    dialplan = contexts(render_dialplan(hall).decode("utf-8"))
    seat_lines = [line for line in dialplan["hotline-seat"] if line.startswith("exten")]
    assert len(seat_lines) == len(hall.seats)
    for seat in hall.seats:
        assert (f"exten => {seat.seat_id},1,Dial(PJSIP/{seat.extension},,"
                f"aA(:hotline/operator-{seat.seat_id})U(hotline-record^{seat.seat_id}))") in seat_lines
    named = "\n".join(dialplan["hotline-named-seat"])
    assert "exten => 7,1,Goto(07,1)" in named  # keyed without the leading zero
    assert "exten => 10,1,Set(HOTLINE_SEAT=10)" in named


def test_voicemail_writes_metadata_then_records(hall: HotlineConfig) -> None:
    dialplan = contexts(render_dialplan(hall).decode("utf-8"))
    voicemail = dialplan["hotline-voicemail"]
    steps = "\n".join(voicemail)
    spool = hall.voicemail.pbx_spool
    assert f"Set(HOTLINE_VM_BASE={spool}/${{HOTLINE_VM_ID}})" in steps
    assert f"Record(${{HOTLINE_VM_BASE}}.wav,0,{hall.voicemail.max_seconds},kq)" in steps
    order = [next(i for i, s in enumerate(voicemail) if needle in s) for needle in (
        "hangup_handler_push)=hotline-voicemail-done", "Gosub(hotline-voicemail-meta,s,1)",
        "Playback(hotline/beep)", "Record(")]
    assert order == sorted(order)
    keys = [re.search(r"=([a-z_0-9]+)=", s).group(1)
            for s in dialplan["hotline-voicemail-meta"] if "Set(FILE(" in s]
    assert keys == ["uniqueid", "linkedid", "route", "caller_num", "caller_withheld",
                    "caller_name_b64", "call_epoch", "pbx_now_forced", "record_epoch", "file",
                    "max_seconds"]
    done = "\n".join(dialplan["hotline-voicemail-done"])
    assert "GotoIf(${HOTLINE_VM_HEADER}?size)" in done  # header late if the spool was missing
    assert done.index("record_status=") < done.index("ended=") < done.index("UserEvent(")


def test_pjsip_has_every_seat_and_expert_phone(hall: HotlineConfig) -> None:
    text = render_pjsip(hall).decode("utf-8")
    endpoints, auths, aors = typed(text, "endpoint"), typed(text, "auth"), typed(text, "aor")
    phones = {s.extension: s for s in hall.seats}
    experts = {e.extension: e for e in hall.experts if e.extension}
    assert set(endpoints) == set(phones) | set(experts)
    for ext, seat in phones.items():
        assert endpoints[ext].get("context") == "hotline-seats"
        assert endpoints[ext].get("auth") == ext and endpoints[ext].get("aors") == ext
        assert auths[ext].get("password") == seat.password and auths[ext].get("username") == ext
        assert aors[ext].get("max_contacts") == "1"
        assert aors[ext].get("remove_existing") == "yes"
        assert int(aors[ext].get("qualify_frequency") or 0) > 0
    for ext in experts:
        assert endpoints[ext].get("context") == "hotline-experts"
    transport = typed(text, "transport")["hotline-udp"]
    assert transport.get("bind") == f"127.0.0.1:{hall.sip.port}"
    template = next(b for b in blocks(text) if b.template == "!")
    assert template.get("media_address") == "127.0.0.1"
    assert template.get("bind_rtp_to_media_address") == "yes"
    assert "#tryinclude pjsip_local.conf" in text
    assert "hotline-trunk" not in text


def test_trunk_is_rendered_only_when_configured(hall_conf: Path) -> None:
    config = load_config(hall_conf, overrides=TRUNK)
    text = render_pjsip(config).decode("utf-8")
    assert typed(text, "identify")["hotline-trunk"].get("match") == "192.0.2.10"
    assert typed(text, "aor")["hotline-trunk"].get("contact") == "sip:192.0.2.10:5070"
    assert typed(text, "endpoint")["hotline-trunk"].get("outbound_auth") == "hotline-trunk-auth"
    assert typed(text, "auth")["hotline-trunk-auth"].get("password") == "trunk-pw"
    assert "registration" not in {b.get("type") for b in blocks(text)}
    assert "res_pjsip_endpoint_identifier_ip.so" in modules_for(config)
    dialplan = contexts(render_dialplan(config).decode("utf-8"))
    expert = "\n".join(dialplan["hotline-expert"])
    assert "exten => 13800138000,1,Dial(PJSIP/913800138000@hotline-trunk,30," \
           "U(hotline-whisper^s^1))" in expert
    assert "exten => _1[3-9]XXXXXXXXX,1" in expert
    assert dialplan["hotline-trunk-in"]


def test_queue_settings(hall: HotlineConfig) -> None:
    queue = {b.name: b for b in blocks(render_queues(hall).decode("utf-8"))}["hotline"]
    assert queue.get("strategy") == "rrmemory"
    assert queue.get("timeout") == str(hall.queue.ring_timeout)
    assert queue.get("wrapuptime") == str(hall.queue.wrapup_seconds)
    assert queue.get("servicelevel") == str(hall.queue.service_level_seconds)
    assert queue.get("ringinuse") == "no"
    assert queue.get("joinempty") == "yes" and queue.get("leavewhenempty") == "no"
    assert queue.get("memberdelay") == "0" and queue.get("autofill") == "yes"


def test_manager_binds_and_permits_loopback_only(hall: HotlineConfig, hall_conf: Path) -> None:
    sections = {b.name: b for b in blocks(render_manager(hall).decode("utf-8"))}
    general, user = sections["general"], sections[hall.ami.username]
    assert general.get("bindaddr") == "127.0.0.1" and general.get("port") == str(hall.ami.port)
    assert general.get("webenabled") == "no"
    assert user.get("secret") == hall.ami.secret
    assert user.all("deny") == ["0.0.0.0/0", "::/0"]
    assert user.all("permit") == ["127.0.0.1/32", "::1/128"]
    assert user.get("read") == ",".join(READ_CLASSES)
    assert user.get("write") == ",".join(WRITE_CLASSES)
    assert user.all("eventfilter") == ["!Event: TestEvent"]
    remote = load_config(hall_conf, overrides={"ami.host": "10.1.2.3", "api.bind": "10.1.2.9"})
    assert permitted_hosts(remote) == ("127.0.0.1/32", "::1/128", "10.1.2.3/32", "10.1.2.9/32")
    named = load_config(hall_conf, overrides={"ami.host": "pbx.example"})
    with pytest.raises(RenderError, match="只能绑定 IP 地址"):
        render_manager(named)


def test_modules_and_rtp(hall: HotlineConfig) -> None:
    modules = blocks(render_modules(hall).decode("utf-8"))[0]
    assert modules.options[0] == ("autoload", "no")
    assert tuple(modules.all("load")) == modules_for(hall)
    assert not {"app_system.so", "func_shell.so", "chan_iax2.so", "pbx_dundi.so"} \
        & set(modules_for(hall))
    rtp = blocks(render_rtp(hall).decode("utf-8"))[0]
    assert rtp.get("rtpstart") == str(hall.sip.rtp_start)
    assert rtp.get("rtpend") == str(hall.sip.rtp_end)


def test_prompt_texts_and_digit_reading(hall: HotlineConfig) -> None:
    texts = prompts.prompt_texts(hall)
    assert texts["operator-07"] == "07号工作人员为您服务。"
    assert texts["greeting"] == hall.prompts.greeting
    assert prompts.speakable("12345热线") == "幺二三四五热线"
    assert prompts.speakable("留言请按1") == "留言请按一"
    assert prompts.speakable("07号") == "零七号"


def test_missing_speech_tools_are_named_with_their_package(
        hall: HotlineConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_which = prompts.shutil.which
    monkeypatch.setattr(prompts.shutil, "which",
                        lambda name: None if name == "sox" else real_which(name))
    with pytest.raises(RenderError, match="apt-get install sox"):
        prompts.render_prompts(hall, tmp_path)


def test_an_unknown_voice_is_named(hall_conf: Path, tmp_path: Path) -> None:
    config = load_config(hall_conf, overrides={"prompts.voice": "zz-missing"})
    with pytest.raises(RenderError, match=r"\[prompts\] voice = “zz-missing”无法使用：.*does not exist"):
        prompts.render_prompts(config, tmp_path)

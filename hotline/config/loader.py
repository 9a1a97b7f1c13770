"""Load and validate hotline.conf: every problem found is reported, none is guessed away."""

from __future__ import annotations

import difflib
import ipaddress
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hotline.config.errors import OVERRIDE_FILE, ConfigError, ConfigIssue, quoted
from hotline.config.ini import Entry, Section, parse_ini, read_text
from hotline.config.model import (
    MINUTES_PER_DAY,
    WEEKDAYS,
    AmiConfig,
    ApiConfig,
    CallbacksConfig,
    DatabaseConfig,
    Department,
    Expert,
    HallConfig,
    HotlineConfig,
    HoursConfig,
    PbxConfig,
    PromptsConfig,
    QualityConfig,
    QueueConfig,
    RecordingConfig,
    Seat,
    SipConfig,
    ThreewayConfig,
    TimeRange,
    TrunkConfig,
    VoicemailConfig,
    VoskConfig,
)
from hotline.config.remit import RemitTable, load_remit
from hotline.config.triage import CONF_KEYS as TRIAGE_KEYS
from hotline.config.triage import TriageSettings, settings_from_section

QUEUE_STRATEGIES = ("ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "linear",
                    "wrandom", "rrordered")
# re.ASCII: \d must not take Unicode digits ("٠٧", "０７"), which Asterisk would not dial.
SEAT_ID = re.compile(r"^\d{2,4}$", re.ASCII)
EXTENSION = re.compile(r"^\d{3,6}$", re.ASCII)
MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$", re.ASCII)
TIME_RANGE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$", re.ASCII)
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)
# What `pbx render` writes a value into, and what would break it there.
SEAT_NAME_FORBIDDEN = re.compile(r'["\\<>;\x00-\x1f\x7f]')
"""A seat name goes inside a quoted caller id ("name" <1007>) in pjsip.conf."""
DIAL_PREFIX = re.compile(r"^[0-9*#+]*$", re.ASCII)
"""The trunk prefix goes into Dial(PJSIP/<prefix><number>@trunk): '&' would add a target."""
DIALPLAN_PATH = re.compile(r"^/[A-Za-z0-9._/-]*$", re.ASCII)
"""pbx_spool goes into Record()/System() arguments: no spaces, commas, quotes or ${}."""
MAX_PORT = 65535
# Prompt speed for espeak-ng (its "words" per minute; with the pinyin voice about a syllable each).
# 230 is about 4.9 syllables a second, a brisk, natural Mandarin service pace; 175 (espeak's own) drags.
DEFAULT_PROMPT_RATE = 230
MIN_PROMPT_RATE, MAX_PROMPT_RATE = 120, 400

# A further PBX's spools ([voicemail]/[recording] key each stands for; empty: the first PBX's).
PBX_SPOOLS = {"voicemail_pbx_spool": ("voicemail", "pbx_spool"), "voicemail_spool": ("voicemail", "spool"),
              "recording_pbx_spool": ("recording", "pbx_spool"), "recording_spool": ("recording", "spool")}
PBX_SPOOL_KEYS = tuple(PBX_SPOOLS)
# Every section the file may hold and the keys each accepts (None: no fixed key set).
SINGLE_SECTIONS: dict[str, tuple[str, ...] | None] = {
    "hall": ("name", "timezone", "secrets_file", "pbx", "pbx_hall"),
    "queue": ("name", "strategy", "ring_timeout", "wrapup_seconds", "service_level_seconds",
              "overflow_seconds", "queue_log"),
    "hours": (*WEEKDAYS, "holidays", "workdays", "workday_hours", "night_shift"),
    "voicemail": ("max_seconds", "pbx_spool", "spool", "archive"),
    "prompts": ("voice", "greeting", "after_hours", "operator_id", "overflow", "named_operator",
                "threeway_whisper", "rate", "recording_notice"),
    "ami": ("host", "port", "username", "secret", "action_timeout"),
    "sip": ("bind", "port", "rtp_start", "rtp_end"),
    "trunk": ("host", "port", "username", "password", "prefix"),
    "database": ("url",),
    "api": ("bind", "port"),
    "vosk": ("model", "download_url"),
    "threeway": ("expert_ring_seconds",),
    "callbacks": ("claim_minutes", "max_attempts", "retry_minutes"),
    "remit": ("file",),
    "triage": tuple(TRIAGE_KEYS),
    "recording": ("enabled", "pbx_spool", "spool", "archive", "retention_days"),
    "quality": ("too_fast_per_min", "too_fast_flag_share", "min_talk_over_s", "talk_over_flag_count",
                "long_silence_s", "quiet_dbfs", "clipping_share", "sample_share", "form"),
    "seats": None,
    "seat-passwords": None,
    "expert-passwords": None,
}
NAMED_SECTIONS: dict[str, tuple[str, ...]] = {
    "department": ("keywords",),
    "expert": ("department", "extension", "number", "duty", "order"),
    # A further Asterisk and its hall ([ami], [sip] and [seats] describe the first one).
    "pbx": ("hall", "ami_host", "ami_port", "ami_username", "secret", "action_timeout", "sip_bind",
            "sip_port", "rtp_start", "rtp_end", "queue_log", *PBX_SPOOL_KEYS),
}
NAME_EXAMPLES = {"department": "供水集团", "expert": "王建国", "pbx": "west", "seats": "west"}
SECTIONS_BY_TITLE = ("pbx", "seats")
"""Named sections whose entries are looked up by title ("pbx west"); each title once."""
PBX_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,31}$", re.ASCII)
"""A PBX name goes into folder names, stored records and URLs."""
# What the secrets file may hold: secrets only, so it cannot silently change the hall.
SECRET_KEYS: dict[str, tuple[str, ...] | None] = {
    "ami": ("secret",),
    "pbx": ("secret",),
    "trunk": ("password",),
    "seat-passwords": None,
    "expert-passwords": None,
}
NAMED_SECRETS = ("pbx",)
DEFAULTS: dict[str, dict[str, str]] = {
    "hall": {"name": "12345热线", "timezone": "Asia/Shanghai", "secrets_file": "hotline.secrets",
             "pbx": "main", "pbx_hall": ""},
    "queue": {"name": "hotline", "strategy": "rrmemory", "ring_timeout": "15",
              "wrapup_seconds": "10", "service_level_seconds": "15", "overflow_seconds": "0",
              "queue_log": "/var/log/asterisk/queue_log"},
    "hours": {**{day: "08:30-17:30" for day in WEEKDAYS[:5]}, "saturday": "closed",
              "sunday": "closed", "holidays": "", "workdays": "", "workday_hours": "08:30-17:30",
              "night_shift": ""},
    "voicemail": {"max_seconds": "120", "pbx_spool": "/var/spool/asterisk/hotline",
                  "spool": "/var/spool/asterisk/hotline", "archive": "var/archive"},
    "prompts": {"voice": "cmn-latn-pinyin", "greeting": "您好，欢迎致电12345热线。",
                "after_hours": "现在是非工作时间，请在提示音后留言，并留下您的联系电话。",
                "operator_id": "{seat}号工作人员为您服务。",
                "overflow": "当前坐席繁忙，留言请按1，继续等待请按其他键。",
                "named_operator": "指定工号请直接输入。",
                "threeway_whisper": "12345热线三方通话。", "rate": str(DEFAULT_PROMPT_RATE),
                "recording_notice": "本次通话将被录音。"},
    "ami": {"host": "127.0.0.1", "port": "5038", "username": "hotline", "secret": "",
            "action_timeout": "10"},
    "sip": {"bind": "127.0.0.1", "port": "5060", "rtp_start": "10000", "rtp_end": "10999"},
    "pbx": {"hall": "", "ami_host": "127.0.0.1", "ami_port": "5038", "ami_username": "hotline",
            "secret": "", "action_timeout": "10", "sip_bind": "127.0.0.1", "sip_port": "5060",
            "rtp_start": "10000", "rtp_end": "10999", "queue_log": "/var/log/asterisk/queue_log",
            **dict.fromkeys(PBX_SPOOL_KEYS, "")},
    "trunk": {"host": "", "port": "5060", "username": "", "password": "", "prefix": ""},
    "database": {"url": "sqlite:///var/hotline.db"},
    "api": {"bind": "127.0.0.1", "port": "8345"},
    "vosk": {"model": "var/models/vosk-model-small-cn-0.22",
             "download_url": "https://alphacephei.com/vosk/models"},
    "threeway": {"expert_ring_seconds": "20"},
    "callbacks": {"claim_minutes": "15", "max_attempts": "3", "retry_minutes": "60"},
    "remit": {"file": ""},
    "recording": {"enabled": "yes", "pbx_spool": "/var/spool/asterisk/hotline-calls",
                  "spool": "/var/spool/asterisk/hotline-calls", "archive": "var/recordings",
                  "retention_days": "180"},
    "quality": {"too_fast_per_min": "260", "too_fast_flag_share": "0.2", "min_talk_over_s": "0.3",
                "talk_over_flag_count": "3", "long_silence_s": "5", "quiet_dbfs": "-35",
                "clipping_share": "0.001", "sample_share": "0.03",
                "form": "服务态度:30, 政策解答正确:30, 语速与清晰度:20, 规范用语:20"},
}
YES, NO = ("yes", "true", "on", "1"), ("no", "false", "off", "0")


def normalise_phone(number: str) -> str:
    return re.sub(r"[\s\-()]", "", number)


def is_valid_phone(number: str) -> bool:
    """Chinese mobile (11 digits) or landline with area code (0 + 2-3 digits + 7-8 digits)."""
    digits = normalise_phone(number)
    return bool(MOBILE.match(digits) or LANDLINE.match(digits))


class _Reader:
    """Collects values with their origin and records issues instead of stopping at the first."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues

    def fail(self, entry: Entry | Section | None, section: str | None, key: str | None,
             message: str) -> None:
        file = entry.file if entry else None
        line = entry.line if entry else None
        self.issues.append(ConfigIssue(file, line, section, key, message))

    def integer(self, entry: Entry, section: str, low: int, high: int) -> int:
        try:
            value = int(entry.value)
        except ValueError:
            self.fail(entry, section, entry.key, f"应为整数，实际为{quoted(entry.value)}")
            return low
        if not low <= value <= high:
            self.fail(entry, section, entry.key,
                      f"{value} 超出范围，应在 {low} 到 {high} 之间")
            return low
        return value

    def number(self, entry: Entry, section: str, low: float, high: float) -> float:
        try:
            value = float(entry.value)
        except ValueError:
            self.fail(entry, section, entry.key, f"应为数字，实际为{quoted(entry.value)}")
            return low
        if not low <= value <= high:
            self.fail(entry, section, entry.key, f"{value:g} 超出范围，应在 {low:g} 到 {high:g} 之间")
            return low
        return value

    def ranges(self, entry: Entry, section: str, *, allow_closed: bool,
               allow_midnight: bool) -> tuple[TimeRange, ...]:
        text = entry.value.strip()
        if not text or (allow_closed and text.lower() == "closed"):
            return ()
        result: list[TimeRange] = []
        for part in (p.strip() for p in text.split(",")):
            match = TIME_RANGE.match(part)
            if not match:
                self.fail(entry, section, entry.key,
                          f"时间段{quoted(part)}格式不对，应为 HH:MM-HH:MM，例如 08:30-17:30"
                          + ("，休息日写 closed" if allow_closed else ""))
                continue
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
                self.fail(entry, section, entry.key, f"时间段{quoted(part)}中的时刻不存在")
                continue
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if start == end:
                self.fail(entry, section, entry.key, f"时间段{quoted(part)}的开始与结束相同")
                continue
            if start > end:
                if not allow_midnight:
                    self.fail(entry, section, entry.key,
                              f"时间段{quoted(part)}首尾颠倒：结束早于开始")
                    continue
                result += [TimeRange(start, MINUTES_PER_DAY), TimeRange(0, end)]
            else:
                result.append(TimeRange(start, end))
        ordered = sorted(r for r in result if r.start != r.end)
        for first, second in itertools.pairwise(ordered):
            if first.overlaps(second):
                self.fail(entry, section, entry.key, f"时间段 {first} 与 {second} 重叠")
        return tuple(ordered)

    def dates(self, entry: Entry, section: str) -> frozenset[date]:
        result: set[date] = set()
        for part in (p.strip() for p in entry.value.split(",") if p.strip()):
            try:
                if not DATE.match(part):
                    raise ValueError
                result.add(date.fromisoformat(part))
            except ValueError:
                self.fail(entry, section, entry.key,
                          f"日期{quoted(part)}格式不对，应为 YYYY-MM-DD，例如 2026-10-01")
        return frozenset(result)


def _check_keys(reader: _Reader, section: Section, allowed: tuple[str, ...] | None) -> None:
    if allowed is None:
        return
    for entry in section.entries:
        if entry.key not in allowed:
            close = difflib.get_close_matches(entry.key, allowed, n=1)
            hint = f"；是否想写 {close[0]}？" if close else f"；可用的键：{'、'.join(allowed)}"
            reader.fail(entry, section.title, entry.key, f"未知的键{hint}")


def _index(reader: _Reader, sections: list[Section], secrets: list[Section],
           overrides: Mapping[str, str]) -> tuple[dict[str, dict[str, Entry]], list[Section]]:
    """Validate section names and merge the secrets file and overrides into one lookup.

    The lookup is keyed by section title: "ami", or "pbx west" for a named PBX.
    """
    single: dict[str, Section] = {}
    named: list[Section] = []
    for section in sections:
        if section.kind in NAMED_SECTIONS or (section.kind == "seats" and section.argument):
            _index_named(reader, section, named)
        elif section.kind in SINGLE_SECTIONS:
            if section.argument:
                reader.fail(section, section.title, None,
                            f"[{section.kind}] 后面不带名称")
            if section.kind in single:
                reader.fail(section, section.kind, None,
                            f"重复的段（第一次出现在第 {single[section.kind].line} 行）")
                continue
            single[section.kind] = section
            _check_keys(reader, section, SINGLE_SECTIONS[section.kind])
        else:
            known = [*SINGLE_SECTIONS, *NAMED_SECTIONS]
            close = difflib.get_close_matches(section.kind, known, n=1)
            hint = f"；是否想写 [{close[0]}]？" if close else f"；可用的段：{'、'.join(known)}"
            reader.fail(section, section.title, None, f"未知的段{hint}")
    values: dict[str, dict[str, Entry]] = {
        kind: {e.key: e for e in sec.entries} for kind, sec in single.items()
    }
    for section in named:
        if section.kind in SECTIONS_BY_TITLE:
            values[section.title] = {e.key: e for e in section.entries}
    _merge_secrets(reader, secrets, values)
    for dotted, value in overrides.items():
        kind, _, key = dotted.partition(".")
        values.setdefault(kind, {})[key] = Entry(key, value, OVERRIDE_FILE, 0)
    return values, named


def _index_named(reader: _Reader, section: Section, named: list[Section]) -> None:
    """A `[kind NAME]` section: it needs its name, and a name once per kind."""
    if not section.argument:
        reader.fail(section, section.kind, None,
                    f"[{section.kind}] 需要名称，例如 [{section.kind} {NAME_EXAMPLES[section.kind]}]")
        return
    first = next((s for s in named if s.title == section.title), None)
    if first is not None and section.kind in SECTIONS_BY_TITLE:
        reader.fail(section, section.title, None, f"重复的段（第一次出现在第 {first.line} 行）")
        return
    named.append(section)
    _check_keys(reader, section, NAMED_SECTIONS.get(section.kind))


def _merge_secrets(reader: _Reader, secrets: list[Section],
                   values: dict[str, dict[str, Entry]]) -> None:
    """The secrets file's entries over hotline.conf's: secrets only, so it cannot change the hall."""
    for section in secrets:
        kind = section.kind
        if kind not in SECRET_KEYS or (section.argument and kind not in NAMED_SECRETS):
            reader.fail(section, section.title, None,
                        "密钥文件只能包含 " + "、".join(f"[{k}]" for k in SECRET_KEYS
                                                      if k not in NAMED_SECRETS)
                        + " 和 [pbx 名称] 段")
            continue
        _check_keys(reader, section, SECRET_KEYS[kind])
        bucket = values.setdefault(section.title, {})
        for entry in section.entries:
            bucket[entry.key] = entry


class _Values:
    """Typed reads of the merged lookup, each falling back to DEFAULTS and reporting to the reader."""

    def __init__(self, reader: _Reader, values: dict[str, dict[str, Entry]], path: Path) -> None:
        self.reader, self.values, self.path, self.base = reader, values, path, path.parent

    def entry(self, section: str, key: str) -> Entry:
        """`section` is a title ("ami", "pbx west"); defaults are those of its kind."""
        found = self.values.get(section, {}).get(key)
        if found is not None:
            return found
        return Entry(key, DEFAULTS[section.partition(" ")[0]][key], self.path, 0)

    def text(self, section: str, key: str, *, required: bool = False) -> str:
        found = self.entry(section, key)
        if required and not found.value:
            self.reader.fail(found if found.line else None, section, key, "不能为空")
        return found.value

    def integer(self, section: str, key: str, low: int, high: int) -> int:
        return self.reader.integer(self.entry(section, key), section, low, high)

    def port(self, section: str, key: str) -> int:
        return self.integer(section, key, 1, MAX_PORT)

    def address(self, section: str, key: str) -> str:
        found = self.entry(section, key)
        try:
            ipaddress.ip_address(found.value)
        except ValueError:
            if not re.match(r"^[A-Za-z0-9.-]+$", found.value):
                self.reader.fail(found, section, key,
                                 f"应为 IP 地址或主机名，实际为{quoted(found.value)}")
        return found.value

    def local_path(self, section: str, key: str) -> Path:
        value = Path(self.text(section, key, required=True))
        return value if value.is_absolute() else self.base / value


def _read_secrets(path: Path, sections: list[Section], overrides: Mapping[str, str],
                  secrets_path: str | Path | None, issues: list[ConfigIssue],
                  ) -> tuple[Path | None, list[Section]]:
    """The secrets file named by the caller, an override or [hall] secrets_file, and its sections."""
    hall_section = next((s for s in sections if s.kind == "hall"), None)
    secrets_entry = hall_section.get("secrets_file") if hall_section else None
    secrets_name = (str(secrets_path) if secrets_path is not None
                    else overrides.get("hall.secrets_file")
                    or (secrets_entry.value if secrets_entry else DEFAULTS["hall"]["secrets_file"]))
    secrets_file = (path.parent / secrets_name) if secrets_name else None
    if secrets_file is None or not secrets_file.exists():
        return secrets_file, []
    secrets_text = read_text(secrets_file, issues)
    if secrets_text is None:
        return secrets_file, []
    return secrets_file, parse_ini(secrets_text, secrets_file, issues)


def load_config(path: str | Path, overrides: Mapping[str, str] | None = None,
                secrets_path: str | Path | None = None) -> HotlineConfig:
    """Read, validate and type the configuration; raise ConfigError listing every issue.

    `overrides` ("section.key" -> value) let the sandbox and tests move ports and paths
    without editing the administrator's file.
    """
    path = Path(path).resolve()
    issues: list[ConfigIssue] = []
    reader = _Reader(issues)
    text = read_text(path, issues)
    if text is None:
        raise ConfigError(issues)
    sections = parse_ini(text, path, issues)
    overrides = dict(overrides or {})
    secrets_file, secrets_sections = _read_secrets(path, sections, overrides, secrets_path, issues)
    values, named = _index(reader, sections, secrets_sections, overrides)
    v = _Values(reader, values, path)
    hall = _hall(v, secrets_file)
    queue, hours, voicemail = _queue(v), _hours(v), _voicemail(v)
    prompts, ami, sip, trunk = _prompts(v), _ami(v, "ami", secrets_file), _sip(v), _trunk(v, secrets_file)
    database, api, vosk, callbacks = _database(v), _api(v), _vosk(v), _callbacks(v)
    triage, threeway = _triage(v), ThreewayConfig(v.integer("threeway", "expert_ring_seconds", 5, 120))
    recording, quality = _recording(reader, v.entry, v.local_path), _quality(reader, v.entry)
    first_pbx, first_display = _first_pbx(v)
    others = _other_pbxes(v, named, secrets_file, voicemail, recording)
    _no_shared_pbx_addresses(reader, v, (first_pbx, ami, sip, queue.queue_log), others)
    seats = _all_seats(reader, values, named, first_pbx, others)
    departments, experts = _directory(reader, named, values)
    remit = _remit(reader, v.entry("remit", "file"), path.parent, departments)
    if issues:
        raise ConfigError(issues)
    config = HotlineConfig(path, hall, queue, hours, voicemail, prompts, ami, sip, trunk, database, api,
                           vosk, seats, departments, experts, callbacks=callbacks)
    return replace(config, threeway=threeway, triage=triage, remit=remit, recording=recording,
                   quality=quality, first_pbx=first_pbx, first_pbx_display=first_display,
                   other_pbxes=others)


def _hall(v: _Values, secrets_file: Path | None) -> HallConfig:
    tz_entry = v.entry("hall", "timezone")
    try:
        ZoneInfo(tz_entry.value)
    except (ZoneInfoNotFoundError, ValueError):
        v.reader.fail(tz_entry, "hall", "timezone",
                      f"未知的时区{quoted(tz_entry.value)}，应为例如 Asia/Shanghai")
    return HallConfig(v.text("hall", "name", required=True), tz_entry.value, secrets_file)


def _queue(v: _Values) -> QueueConfig:
    strategy = v.entry("queue", "strategy")
    if strategy.value not in QUEUE_STRATEGIES:
        v.reader.fail(strategy, "queue", "strategy",
                      f"未知的振铃策略{quoted(strategy.value)}，应为以下之一："
                      + "、".join(QUEUE_STRATEGIES))
    queue_name = v.entry("queue", "name")
    if not re.match(r"^[A-Za-z0-9_-]+$", queue_name.value):
        v.reader.fail(queue_name, "queue", "name", "只能由字母、数字、- 或 _ 组成")
    return QueueConfig(
        name=queue_name.value,
        strategy=strategy.value,
        ring_timeout=v.integer("queue", "ring_timeout", 1, 300),
        wrapup_seconds=v.integer("queue", "wrapup_seconds", 0, 3600),
        service_level_seconds=v.integer("queue", "service_level_seconds", 1, 3600),
        overflow_seconds=v.integer("queue", "overflow_seconds", 0, 86400),
        queue_log=v.local_path("queue", "queue_log"),
    )


def _hours(v: _Values) -> HoursConfig:
    reader = v.reader
    weekly = {
        number: reader.ranges(v.entry("hours", day), "hours", allow_closed=True,
                              allow_midnight=False)
        for number, day in enumerate(WEEKDAYS, start=1)
    }
    holidays = reader.dates(v.entry("hours", "holidays"), "hours")
    workdays = reader.dates(v.entry("hours", "workdays"), "hours")
    for both in sorted(holidays & workdays):
        reader.fail(v.entry("hours", "workdays"), "hours", "workdays",
                    f"{both} 既是节假日又是调休工作日")
    return HoursConfig(
        weekly=weekly, holidays=holidays, workdays=workdays,
        workday_hours=reader.ranges(v.entry("hours", "workday_hours"), "hours",
                                    allow_closed=False, allow_midnight=False),
        night_shift=reader.ranges(v.entry("hours", "night_shift"), "hours", allow_closed=True,
                                  allow_midnight=True),
    )


def _voicemail(v: _Values) -> VoicemailConfig:
    voicemail = VoicemailConfig(
        max_seconds=v.integer("voicemail", "max_seconds", 5, 3600),
        pbx_spool=v.text("voicemail", "pbx_spool", required=True),
        spool=v.local_path("voicemail", "spool"),
        archive=v.local_path("voicemail", "archive"),
    )
    if not voicemail.pbx_spool.startswith("/"):
        v.reader.fail(v.entry("voicemail", "pbx_spool"), "voicemail", "pbx_spool", PBX_PATH_RULE)
    _check_rendered_values(v.reader, v.entry("voicemail", "pbx_spool"), v.entry("trunk", "prefix"))
    return voicemail


def _prompts(v: _Values) -> PromptsConfig:
    prompts = PromptsConfig(**{key: v.text("prompts", key, required=True)
                               for key in SINGLE_SECTIONS["prompts"] or () if key != "rate"},
                            rate=v.integer("prompts", "rate", MIN_PROMPT_RATE, MAX_PROMPT_RATE))
    if "{seat}" not in prompts.operator_id:
        v.reader.fail(v.entry("prompts", "operator_id"), "prompts", "operator_id",
                      "必须包含 {seat}，即播报话务员工号的位置")
    return prompts


def _ami(v: _Values, section: str, secrets_file: Path | None) -> AmiConfig:
    """[ami], or the ami_* keys of a [pbx NAME] section (prefix "ami_" there)."""
    prefix = "" if section == "ami" else "ami_"
    secret = v.entry(section, "secret")
    if not secret.value:
        v.reader.fail(None, section, "secret",
                      f"缺少密钥：请在密钥文件 {secrets_file} 的 [{section}] 段设置 secret")
    return AmiConfig(v.address(section, prefix + "host"), v.port(section, prefix + "port"),
                     v.text(section, prefix + "username", required=True), secret.value,
                     v.reader.number(v.entry(section, "action_timeout"), section, 0.1, 600))


def _sip(v: _Values, section: str = "sip") -> SipConfig:
    """[sip], or the sip_* keys of a [pbx NAME] section."""
    prefix = "" if section == "sip" else "sip_"
    sip = SipConfig(v.address(section, prefix + "bind"), v.port(section, prefix + "port"),
                    v.port(section, "rtp_start"), v.port(section, "rtp_end"))
    if sip.rtp_start >= sip.rtp_end:
        v.reader.fail(v.entry(section, "rtp_end"), section, "rtp_end", "必须大于 rtp_start")
    return sip


def _trunk(v: _Values, secrets_file: Path | None) -> TrunkConfig | None:
    if not v.text("trunk", "host"):
        return None
    trunk = TrunkConfig(v.address("trunk", "host"), v.text("trunk", "username"),
                        v.text("trunk", "password"), v.text("trunk", "prefix"),
                        v.port("trunk", "port"))
    if not trunk.password:
        v.reader.fail(None, "trunk", "password",
                      f"缺少密钥：请在密钥文件 {secrets_file} 的 [trunk] 段设置 password")
    return trunk


def _database(v: _Values) -> DatabaseConfig:
    """A relative SQLite path is relative to hotline.conf, as every other path in it."""
    db_url = v.text("database", "url", required=True)
    sqlite_prefix = "sqlite:///"
    if db_url.startswith(sqlite_prefix) and not db_url.startswith("sqlite:////"):
        relative = db_url[len(sqlite_prefix):]
        if relative and relative != ":memory:":
            db_url = sqlite_prefix + str(v.base / relative)
    elif not re.match(r"^(sqlite|postgresql)(\+\w+)?://", db_url):
        v.reader.fail(v.entry("database", "url"), "database", "url",
                      "应为以 sqlite:/// 或 postgresql+psycopg:// 开头的数据库地址")
    return DatabaseConfig(db_url)


def _api(v: _Values) -> ApiConfig:
    return ApiConfig(v.address("api", "bind"), v.port("api", "port"))


def _vosk(v: _Values) -> VoskConfig:
    vosk = VoskConfig(v.local_path("vosk", "model"), v.text("vosk", "download_url", required=True))
    if not re.match(r"^https?://", vosk.download_url):
        v.reader.fail(v.entry("vosk", "download_url"), "vosk", "download_url",
                      "应为以 http:// 或 https:// 开头的网址")
    return vosk


def _callbacks(v: _Values) -> CallbacksConfig:
    return CallbacksConfig(
        claim_minutes=v.integer("callbacks", "claim_minutes", 1, 1440),
        max_attempts=v.integer("callbacks", "max_attempts", 1, 20),
        retry_minutes=v.integer("callbacks", "retry_minutes", 1, 10080),
    )


def _triage(v: _Values) -> TriageSettings:
    triage_entries = v.values.get("triage", {})
    try:
        return settings_from_section({key: e.value for key, e in triage_entries.items()})
    except ValueError as exc:
        v.reader.fail(None, "triage", None, str(exc).removeprefix("[triage] "))
        return TriageSettings()


def _remit(reader: _Reader, item: Entry, base: Path,
           departments: tuple[Department, ...]) -> RemitTable:
    """The remit table from its own file; without one, hotline.conf's [department] keywords."""
    if not item.value:
        return RemitTable.from_keywords(tuple((d.name, d.keywords) for d in departments))
    file = Path(item.value) if Path(item.value).is_absolute() else base / item.value
    if not file.is_file():
        reader.fail(item, "remit", "file", f"文件 {file} 不存在")
        return RemitTable(())
    try:
        return load_remit(file)
    except ConfigError as exc:
        reader.issues.extend(exc.issues)
        return RemitTable(())


def _recording(reader: _Reader, entry: Callable[[str, str], Entry],
               local_path: Callable[[str, str], Path]) -> RecordingConfig:
    """[recording]: whether answered calls are recorded, where, and for how long they are kept."""
    switch = entry("recording", "enabled")
    if switch.value.strip().lower() not in YES + NO:
        reader.fail(switch, "recording", "enabled", f"应为 yes 或 no，实际为{quoted(switch.value)}")
    pbx_spool = entry("recording", "pbx_spool")
    if not pbx_spool.value.startswith("/"):
        reader.fail(pbx_spool, "recording", "pbx_spool", PBX_PATH_RULE)
    elif not DIALPLAN_PATH.match(pbx_spool.value):  # `pbx render` writes it into the dialplan
        reader.fail(pbx_spool, "recording", "pbx_spool",
                    f"{quoted(pbx_spool.value)}会破坏拨号方案：只能使用字母、数字和 . _ - /"
                    "（不能有空格、逗号、引号或 $）")
    return RecordingConfig(
        enabled=switch.value.strip().lower() in YES,
        pbx_spool=pbx_spool.value,
        spool=local_path("recording", "spool"),
        archive=local_path("recording", "archive"),
        retention_days=reader.integer(entry("recording", "retention_days"), "recording", 1, 36500),
    )


def _quality(reader: _Reader, entry: Callable[[str, str], Entry]) -> QualityConfig:
    """[quality]: the limits of the automatic 质检 measures."""
    def number(key: str, low: float, high: float) -> float:
        return reader.number(entry("quality", key), "quality", low, high)

    return QualityConfig(
        too_fast_per_min=number("too_fast_per_min", 60, 1000),
        too_fast_flag_share=number("too_fast_flag_share", 0.01, 1),
        min_talk_over_s=number("min_talk_over_s", 0.05, 10),
        talk_over_flag_count=reader.integer(entry("quality", "talk_over_flag_count"), "quality", 1, 1000),
        long_silence_s=number("long_silence_s", 0.5, 600),
        quiet_dbfs=number("quiet_dbfs", -90, 0),
        clipping_share=number("clipping_share", 0, 1),
        sample_share=number("sample_share", 0, 1),
        form=entry("quality", "form").value,
    )


def _check_rendered_values(reader: _Reader, pbx_spool: Entry, prefix: Entry) -> None:
    """Values `pbx render` writes into the dialplan verbatim: refuse what would break it there."""
    if pbx_spool.value.startswith("/") and not DIALPLAN_PATH.match(pbx_spool.value):
        reader.fail(pbx_spool, "voicemail", "pbx_spool",
                    f"{quoted(pbx_spool.value)}会破坏拨号方案：只能使用字母、数字和 . _ - /"
                    "（不能有空格、逗号、引号或 $）")
    if not DIAL_PREFIX.match(prefix.value):
        reader.fail(prefix, "trunk", "prefix", f"拨号前缀{quoted(prefix.value)}格式不对："
                                              "只能拨 0-9 的数字和 * # +")


def _first_pbx(v: _Values) -> tuple[str, str]:
    """[hall] pbx names the PBX of [ami]/[sip]/[seats]; pbx_hall is its hall's display name."""
    name = v.entry("hall", "pbx")
    if not PBX_NAME.match(name.value):
        v.reader.fail(name, "hall", "pbx", PBX_NAME_RULE)
    return name.value, v.text("hall", "pbx_hall") or v.text("hall", "name")


PBX_NAME_RULE = "交换机名称须以字母开头，其后最多 31 个字母、数字、- 或 _，例如 west"
PBX_PATH_RULE = "应为交换机上的绝对路径（以 / 开头）"


def _other_pbxes(v: _Values, named: list[Section], secrets_file: Path | None,
                 voicemail: VoicemailConfig, recording: RecordingConfig) -> tuple[PbxConfig, ...]:
    """Each [pbx NAME]: how the service reaches that Asterisk and its hall's display name."""
    first = v.entry("hall", "pbx").value
    declared = {s.title for s in named if s.kind == "pbx"}
    for title, entries in v.values.items():
        if title.partition(" ")[0] == "pbx" and title not in declared and entries:
            item = next(iter(entries.values()))
            v.reader.fail(item if item.line else None, title, None,
                          f"hotline.conf 中没有 [{title}]：不能为未定义的交换机设置密钥或覆盖值")
    pbxes: list[PbxConfig] = []
    for section in (s for s in named if s.kind == "pbx"):
        if not PBX_NAME.match(section.argument):
            v.reader.fail(section, section.title, None, PBX_NAME_RULE)
            continue
        if section.argument == first:
            v.reader.fail(section, section.title, None,
                          f"{quoted(first)}是第一台交换机（由 [hall] pbx 命名，用 [ami]、[sip] 和 "
                          "[seats] 描述）；请给这台交换机另起名称")
            continue
        title = section.title
        spools = _pbx_spools(v, title)
        pbxes.append(PbxConfig(section.argument, v.text(title, "hall") or section.argument,
                               _ami(v, title, secrets_file), _sip(v, title),
                               v.local_path(title, "queue_log"),
                               voicemail=replace(voicemail, **spools["voicemail"]),
                               recording=replace(recording, **spools["recording"])))
    return tuple(pbxes)


def _pbx_spools(v: _Values, title: str) -> dict[str, dict[str, object]]:
    """A [pbx NAME]'s own voicemail and recording spools, as [voicemail]/[recording] fields."""
    spools: dict[str, dict[str, object]] = {"voicemail": {}, "recording": {}}
    for key, (section, field_name) in PBX_SPOOLS.items():
        item = v.entry(title, key)
        if not item.value:
            continue
        if field_name == "spool":
            spools[section][field_name] = v.local_path(title, key)
        elif not item.value.startswith("/") or not DIALPLAN_PATH.match(item.value):
            v.reader.fail(item, title, key, "应为交换机上的绝对路径，只能由字母、数字和 . _ - / 组成"
                                            "（它会写入拨号方案）")
        else:
            spools[section][field_name] = item.value
    return spools


SHARED_WHAT = {"ami": "AMI 地址", "sip": "SIP 地址", "queue_log": "queue_log 文件"}


def _no_shared_pbx_addresses(reader: _Reader, v: _Values,
                             first: tuple[str, AmiConfig, SipConfig, Path],
                             others: tuple[PbxConfig, ...]) -> None:
    """Two PBXs on one AMI or SIP address, or one queue_log, would be one PBX read twice."""
    name, ami, sip, queue_log = first
    seen: dict[tuple[str, object], str] = {("ami", (ami.host, ami.port)): name,
                                           ("sip", (sip.bind, sip.port)): name,
                                           ("queue_log", queue_log): name}
    for pbx in others:
        for what, key, value in (("ami", "ami_port", (pbx.ami.host, pbx.ami.port)),
                                 ("sip", "sip_port", (pbx.sip.bind, pbx.sip.port)),
                                 ("queue_log", "queue_log", pbx.queue_log)):
            owner = seen.setdefault((what, value), pbx.name)
            if owner != pbx.name:
                reader.fail(v.entry(f"pbx {pbx.name}", key), f"pbx {pbx.name}", key,
                            f"与交换机{quoted(owner)}的 {SHARED_WHAT[what]}相同；每台交换机须各用各的")


def _all_seats(reader: _Reader, values: dict[str, dict[str, Entry]], named: list[Section],
               first: str, others: tuple[PbxConfig, ...]) -> tuple[Seat, ...]:
    """[seats] for the first PBX, [seats NAME] for each other; ids and extensions unique over all."""
    known = [p.name for p in others]
    groups: list[tuple[str, str]] = [("seats", first)]
    for section in (s for s in named if s.kind == "seats"):
        if section.argument not in known:
            close = difflib.get_close_matches(section.argument, known, n=1)
            hint = (f"；是否想写 [seats {close[0]}]？" if close
                    else f"；第一台交换机的坐席写在 [seats]，其他交换机须先有 [pbx {section.argument}]")
            reader.fail(section, section.title, None, f"没有名为{quoted(section.argument)}的交换机{hint}")
            continue
        groups.append((section.title, section.argument))
    for name in known:
        if f"seats {name}" not in values:
            reader.fail(None, f"pbx {name}", None, f"交换机{quoted(name)}没有坐席：请添加 [seats {name}]")
    seats: list[Seat] = []
    by_extension: dict[str, Entry] = {}
    for title, pbx in groups:
        seats += _seats(reader, values, title, pbx, by_extension)
    _no_duplicate_seat_ids(reader, [item for title, _ in groups
                                    for item in values.get(title, {}).values()])
    return tuple(sorted(seats, key=lambda s: s.seat_id))


def _seats(reader: _Reader, values: dict[str, dict[str, Entry]], title: str, pbx: str,
           by_extension: dict[str, Entry]) -> list[Seat]:
    seats: list[Seat] = []
    passwords = values.get("seat-passwords", {})
    entries = values.get(title, {})
    if not entries and title == "seats":
        reader.fail(None, "seats", None, "没有配置坐席：请添加形如 01 = 1001 的行")
    for seat_id, item in entries.items():
        extension, _, name = item.value.partition(" ")
        if SEAT_NAME_FORBIDDEN.search(name):
            reader.fail(item, title, seat_id,
                        f"坐席姓名{quoted(name.strip())}不能包含 \" \\ < > ; 或控制字符"
                        "（它会写入交换机的主叫显示）")
            continue
        if not SEAT_ID.match(seat_id):
            reader.fail(item, title, seat_id,
                        "工号应为 2 到 4 位数字，例如 07")
            continue
        if not EXTENSION.match(extension):
            reader.fail(item, title, seat_id,
                        f"分机号{quoted(extension)}格式不对，应为 3 到 6 位数字，例如 1007")
            continue
        if extension in by_extension:
            reader.fail(item, title, seat_id, f"分机号 {extension} 重复（第 "
                                              f"{by_extension[extension].line} 行的坐席 "
                                              f"{by_extension[extension].key} 也用它）")
            continue
        by_extension[extension] = item
        password = passwords.get(seat_id)
        if password is None or not password.value:
            reader.fail(item, title, seat_id,
                        f"缺少密钥：坐席 {seat_id} 没有 SIP 密码；请在密钥文件的 [seat-passwords] "
                        f"段添加 {seat_id} = …")
            continue
        seats.append(Seat(seat_id, extension, password.value, name.strip(), pbx))
    return seats


def _no_duplicate_seat_ids(reader: _Reader, entries: list[Entry]) -> None:
    """'01' and '1' would both announce as 工号 1 (and a 工号 on two PBXs would be two seats):
    refuse ids equal as numbers, across every PBX."""
    seen: dict[int, Entry] = {}
    for item in entries:
        seat_id = item.key
        if not seat_id.isdigit():
            continue
        number = int(seat_id)
        if number in seen:
            reader.fail(item, "seats", seat_id, f"工号重复（与 {seen[number].file.name} 第 "
                                                f"{seen[number].line} 行的 {seen[number].key} 相同）")
        seen[number] = item


def _directory(reader: _Reader, named: list[Section], values: dict[str, dict[str, Entry]],
               ) -> tuple[tuple[Department, ...], tuple[Expert, ...]]:
    departments: dict[str, Department] = {}
    for section in (s for s in named if s.kind == "department"):
        if section.argument in departments:
            reader.fail(section, section.title, None, "重复的部门")
            continue
        raw = section.get("keywords")
        keywords = tuple(k.strip() for k in re.split(r"[,，、]", raw.value) if k.strip()) if raw else ()
        departments[section.argument] = Department(section.argument, keywords)
    seen = _ExpertsSeen(
        seat_extensions={e.value.partition(" ")[0] for title, seats in values.items()
                         if title.partition(" ")[0] == "seats" for e in seats.values()},
        passwords=values.get("expert-passwords", {}))
    experts: list[Expert] = []
    for section in (s for s in named if s.kind == "expert"):
        if section.argument in seen.names:
            reader.fail(section, section.title, None, f"重复的专家（第 "
                                                      f"{seen.names[section.argument].line} 行也有）")
            continue
        seen.names[section.argument] = section
        experts.append(_expert(reader, section, departments, seen))
    return tuple(departments.values()), tuple(experts)


@dataclass
class _ExpertsSeen:
    """What the experts read so far took: names, (department, order) pairs and extensions."""

    seat_extensions: set[str]
    passwords: dict[str, Entry]
    names: dict[str, Section] = field(default_factory=dict)
    orders: dict[tuple[str, int], Section] = field(default_factory=dict)
    extensions: dict[str, Section] = field(default_factory=dict)


def _expert(reader: _Reader, section: Section, departments: dict[str, Department],
            seen: _ExpertsSeen) -> Expert:
    """One [expert NAME]: its department, how to reach it, its duty hours and order."""
    title = section.title

    def need(key: str) -> Entry | None:
        found = section.get(key)
        if found is None or not found.value:
            reader.fail(section, title, key, "缺少此项：每位专家都必须填写")
            return None
        return found

    department = need("department")
    if department and department.value not in departments:
        close = difflib.get_close_matches(department.value, list(departments), n=1)
        hint = f"；是否想写{quoted(close[0])}？" if close else ""
        reader.fail(department, title, "department", f"没有部门{quoted(department.value)}{hint}")
    extension, number = section.get("extension"), section.get("number")
    if (extension is None) == (number is None):
        reader.fail(section, title, None, "extension 与 number 须填且只填一项")
    password = _expert_extension(reader, section, extension, seen) if extension is not None else ""
    if number is not None and not is_valid_phone(number.value):
        reader.fail(number, title, "number",
                    f"电话号码{quoted(number.value)}格式不对：应为手机号（如 13800138000）"
                    "或带区号的座机号（如 0571-87654321）")
    duty_entry = need("duty")
    duty = reader.ranges(duty_entry, title, allow_closed=False, allow_midnight=True) if duty_entry else ()
    order_entry = need("order")
    order = reader.integer(order_entry, title, 1, 99) if order_entry else 1
    if department and order_entry:
        key = (department.value, order)
        if key in seen.orders:
            reader.fail(order_entry, title, "order", f"顺序号 {order} 已被 "
                                                     f"[{seen.orders[key].title}] 占用")
        seen.orders[key] = section
    return Expert(name=section.argument, department=department.value if department else "",
                  extension=extension.value if extension else None,
                  number=normalise_phone(number.value) if number else None,
                  duty=duty, order=order, password=password)


def _expert_extension(reader: _Reader, section: Section, extension: Entry, seen: _ExpertsSeen) -> str:
    """An expert's own desk phone: a free extension with its SIP password; the password."""
    title = section.title
    if not EXTENSION.match(extension.value):
        reader.fail(extension, title, "extension",
                    f"分机号{quoted(extension.value)}格式不对，应为 3 到 6 位数字")
    elif extension.value in seen.seat_extensions:
        reader.fail(extension, title, "extension", f"分机号 {extension.value} 已被坐席使用")
    elif extension.value in seen.extensions:
        reader.fail(extension, title, "extension",
                    f"分机号重复（[{seen.extensions[extension.value].title}] 也用它）")
    else:
        seen.extensions[extension.value] = section
        secret = seen.passwords.get(extension.value)
        if secret is not None and secret.value:
            return secret.value
        reader.fail(extension, title, "extension",
                    f"缺少密钥：分机 {extension.value} 没有 SIP 密码；请在密钥文件的 "
                    f"[expert-passwords] 段添加 {extension.value} = …")
    return ""

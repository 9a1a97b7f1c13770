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

from hotline.config.errors import ConfigError, ConfigIssue
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
            self.fail(entry, section, entry.key, f"expected a whole number, found {entry.value!r}")
            return low
        if not low <= value <= high:
            self.fail(entry, section, entry.key,
                      f"{value} is out of range; expected {low} to {high}")
            return low
        return value

    def number(self, entry: Entry, section: str, low: float, high: float) -> float:
        try:
            value = float(entry.value)
        except ValueError:
            self.fail(entry, section, entry.key, f"expected a number, found {entry.value!r}")
            return low
        if not low <= value <= high:
            self.fail(entry, section, entry.key, f"{value} is out of range; expected {low}-{high}")
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
                          f"malformed time range {part!r}; expected HH:MM-HH:MM such as 08:30-17:30"
                          + (" or 'closed'" if allow_closed else ""))
                continue
            h1, m1, h2, m2 = (int(g) for g in match.groups())
            if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
                self.fail(entry, section, entry.key, f"impossible time in {part!r}")
                continue
            start, end = h1 * 60 + m1, h2 * 60 + m2
            if start == end:
                self.fail(entry, section, entry.key, f"empty time range {part!r}")
                continue
            if start > end:
                if not allow_midnight:
                    self.fail(entry, section, entry.key,
                              f"reversed time range {part!r}: it ends before it starts")
                    continue
                result += [TimeRange(start, MINUTES_PER_DAY), TimeRange(0, end)]
            else:
                result.append(TimeRange(start, end))
        ordered = sorted(r for r in result if r.start != r.end)
        for first, second in itertools.pairwise(ordered):
            if first.overlaps(second):
                self.fail(entry, section, entry.key, f"overlapping time ranges {first} and {second}")
        return tuple(ordered)

    def dates(self, entry: Entry, section: str) -> frozenset[date]:
        result: set[date] = set()
        for part in (p.strip() for p in entry.value.split(",") if p.strip()):
            try:
                if not DATE.match(part):
                    raise ValueError
                result.add(date.fromisoformat(part))
            except ValueError:
                self.fail(entry, section, entry.key, f"malformed date {part!r}; expected YYYY-MM-DD")
        return frozenset(result)


def _check_keys(reader: _Reader, section: Section, allowed: tuple[str, ...] | None) -> None:
    if allowed is None:
        return
    for entry in section.entries:
        if entry.key not in allowed:
            close = difflib.get_close_matches(entry.key, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(allowed)}"
            reader.fail(entry, section.title, entry.key, f"unknown key{hint}")


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
                            f"[{section.kind}] takes no name after it")
            if section.kind in single:
                reader.fail(section, section.kind, None,
                            f"duplicate section (first on line {single[section.kind].line})")
                continue
            single[section.kind] = section
            _check_keys(reader, section, SINGLE_SECTIONS[section.kind])
        else:
            known = [*SINGLE_SECTIONS, *NAMED_SECTIONS]
            close = difflib.get_close_matches(section.kind, known, n=1)
            hint = f"; did you mean [{close[0]}]?" if close else f"; known: {', '.join(known)}"
            reader.fail(section, section.title, None, f"unknown section{hint}")
    values: dict[str, dict[str, Entry]] = {
        kind: {e.key: e for e in sec.entries} for kind, sec in single.items()
    }
    for section in named:
        if section.kind in SECTIONS_BY_TITLE:
            values[section.title] = {e.key: e for e in section.entries}
    _merge_secrets(reader, secrets, values)
    for dotted, value in overrides.items():
        kind, _, key = dotted.partition(".")
        values.setdefault(kind, {})[key] = Entry(key, value, Path("<override>"), 0)
    return values, named


def _index_named(reader: _Reader, section: Section, named: list[Section]) -> None:
    """A `[kind NAME]` section: it needs its name, and a name once per kind."""
    if not section.argument:
        reader.fail(section, section.kind, None,
                    f"[{section.kind}] needs a name, e.g. [{section.kind} {NAME_EXAMPLES[section.kind]}]")
        return
    first = next((s for s in named if s.title == section.title), None)
    if first is not None and section.kind in SECTIONS_BY_TITLE:
        reader.fail(section, section.title, None, f"duplicate section (first on line {first.line})")
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
                        "the secrets file may only hold " + ", ".join(f"[{k}]" for k in SECRET_KEYS)
                        + " and [pbx NAME]")
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
            self.reader.fail(found if found.line else None, section, key, "must not be empty")
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
                self.reader.fail(found, section, key, f"expected an IP address or host name, found "
                                                      f"{found.value!r}")
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
                      f"unknown time zone {tz_entry.value!r}; expected e.g. Asia/Shanghai")
    return HallConfig(v.text("hall", "name", required=True), tz_entry.value, secrets_file)


def _queue(v: _Values) -> QueueConfig:
    strategy = v.entry("queue", "strategy")
    if strategy.value not in QUEUE_STRATEGIES:
        v.reader.fail(strategy, "queue", "strategy",
                      f"unknown strategy {strategy.value!r}; expected one of "
                      + ", ".join(QUEUE_STRATEGIES))
    queue_name = v.entry("queue", "name")
    if not re.match(r"^[A-Za-z0-9_-]+$", queue_name.value):
        v.reader.fail(queue_name, "queue", "name", "expected letters, digits, '-' or '_'")
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
                    f"{both} is both a holiday and a swapped working day")
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
        v.reader.fail(v.entry("voicemail", "pbx_spool"), "voicemail", "pbx_spool",
                      "expected an absolute path on the PBX")
    _check_rendered_values(v.reader, v.entry("voicemail", "pbx_spool"), v.entry("trunk", "prefix"))
    return voicemail


def _prompts(v: _Values) -> PromptsConfig:
    prompts = PromptsConfig(**{key: v.text("prompts", key, required=True)
                               for key in SINGLE_SECTIONS["prompts"] or () if key != "rate"},
                            rate=v.integer("prompts", "rate", MIN_PROMPT_RATE, MAX_PROMPT_RATE))
    if "{seat}" not in prompts.operator_id:
        v.reader.fail(v.entry("prompts", "operator_id"), "prompts", "operator_id",
                      "must contain {seat}, the place where the operator's 工号 is spoken")
    return prompts


def _ami(v: _Values, section: str, secrets_file: Path | None) -> AmiConfig:
    """[ami], or the ami_* keys of a [pbx NAME] section (prefix "ami_" there)."""
    prefix = "" if section == "ami" else "ami_"
    secret = v.entry(section, "secret")
    if not secret.value:
        v.reader.fail(None, section, "secret",
                      f"missing secret; set [{section}] secret in the secrets file {secrets_file}")
    return AmiConfig(v.address(section, prefix + "host"), v.port(section, prefix + "port"),
                     v.text(section, prefix + "username", required=True), secret.value,
                     v.reader.number(v.entry(section, "action_timeout"), section, 0.1, 600))


def _sip(v: _Values, section: str = "sip") -> SipConfig:
    """[sip], or the sip_* keys of a [pbx NAME] section."""
    prefix = "" if section == "sip" else "sip_"
    sip = SipConfig(v.address(section, prefix + "bind"), v.port(section, prefix + "port"),
                    v.port(section, "rtp_start"), v.port(section, "rtp_end"))
    if sip.rtp_start >= sip.rtp_end:
        v.reader.fail(v.entry(section, "rtp_end"), section, "rtp_end", "must be above rtp_start")
    return sip


def _trunk(v: _Values, secrets_file: Path | None) -> TrunkConfig | None:
    if not v.text("trunk", "host"):
        return None
    trunk = TrunkConfig(v.address("trunk", "host"), v.text("trunk", "username"),
                        v.text("trunk", "password"), v.text("trunk", "prefix"),
                        v.port("trunk", "port"))
    if not trunk.password:
        v.reader.fail(None, "trunk", "password",
                      f"missing secret; set [trunk] password in the secrets file {secrets_file}")
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
                      "expected an sqlite:/// or postgresql+psycopg:// URL")
    return DatabaseConfig(db_url)


def _api(v: _Values) -> ApiConfig:
    return ApiConfig(v.address("api", "bind"), v.port("api", "port"))


def _vosk(v: _Values) -> VoskConfig:
    vosk = VoskConfig(v.local_path("vosk", "model"), v.text("vosk", "download_url", required=True))
    if not re.match(r"^https?://", vosk.download_url):
        v.reader.fail(v.entry("vosk", "download_url"), "vosk", "download_url",
                      "expected an http:// or https:// URL")
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
        v.reader.fail(None, "triage", None, str(exc))
        return TriageSettings()


def _remit(reader: _Reader, item: Entry, base: Path,
           departments: tuple[Department, ...]) -> RemitTable:
    """The remit table from its own file; without one, hotline.conf's [department] keywords."""
    if not item.value:
        return RemitTable.from_keywords(tuple((d.name, d.keywords) for d in departments))
    file = Path(item.value) if Path(item.value).is_absolute() else base / item.value
    if not file.is_file():
        reader.fail(item, "remit", "file", f"no such file {str(file)!r}")
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
        reader.fail(switch, "recording", "enabled", f"expected yes or no, found {switch.value!r}")
    pbx_spool = entry("recording", "pbx_spool")
    if not pbx_spool.value.startswith("/"):
        reader.fail(pbx_spool, "recording", "pbx_spool", "expected an absolute path on the PBX")
    elif not DIALPLAN_PATH.match(pbx_spool.value):  # `pbx render` writes it into the dialplan
        reader.fail(pbx_spool, "recording", "pbx_spool", "会破坏拨号方案：只能使用字母、数字和 . _ - /"
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
                    f"{pbx_spool.value!r} would break the dialplan: use only letters, digits "
                    "and . _ - / (no spaces, commas, quotes or $)")
    if not DIAL_PREFIX.match(prefix.value):
        reader.fail(prefix, "trunk", "prefix", f"malformed dial prefix {prefix.value!r}; only the "
                                              "digits 0-9 and * # + may be dialled")


def _first_pbx(v: _Values) -> tuple[str, str]:
    """[hall] pbx names the PBX of [ami]/[sip]/[seats]; pbx_hall is its hall's display name."""
    name = v.entry("hall", "pbx")
    if not PBX_NAME.match(name.value):
        v.reader.fail(name, "hall", "pbx", PBX_NAME_RULE)
    return name.value, v.text("hall", "pbx_hall") or v.text("hall", "name")


PBX_NAME_RULE = "a PBX name is a letter then up to 31 letters, digits, '-' or '_', e.g. west"


def _other_pbxes(v: _Values, named: list[Section], secrets_file: Path | None,
                 voicemail: VoicemailConfig, recording: RecordingConfig) -> tuple[PbxConfig, ...]:
    """Each [pbx NAME]: how the service reaches that Asterisk and its hall's display name."""
    first = v.entry("hall", "pbx").value
    declared = {s.title for s in named if s.kind == "pbx"}
    for title, entries in v.values.items():
        if title.partition(" ")[0] == "pbx" and title not in declared and entries:
            item = next(iter(entries.values()))
            v.reader.fail(item if item.line else None, title, None,
                          f"no [{title}] in hotline.conf: a secret or override for a PBX it does not name")
    pbxes: list[PbxConfig] = []
    for section in (s for s in named if s.kind == "pbx"):
        if not PBX_NAME.match(section.argument):
            v.reader.fail(section, section.title, None, PBX_NAME_RULE)
            continue
        if section.argument == first:
            v.reader.fail(section, section.title, None,
                          f"{first!r} is the first PBX, described by [ami], [sip] and [seats] "
                          "([hall] pbx names it); give this one another name")
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
            v.reader.fail(item, title, key, "expected an absolute path on the PBX of letters, digits "
                                            "and . _ - / (it is written into the dialplan)")
        else:
            spools[section][field_name] = item.value
    return spools


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
                            f"the same {what} as PBX {owner!r}; every PBX needs its own")


def _all_seats(reader: _Reader, values: dict[str, dict[str, Entry]], named: list[Section],
               first: str, others: tuple[PbxConfig, ...]) -> tuple[Seat, ...]:
    """[seats] for the first PBX, [seats NAME] for each other; ids and extensions unique over all."""
    known = [p.name for p in others]
    groups: list[tuple[str, str]] = [("seats", first)]
    for section in (s for s in named if s.kind == "seats"):
        if section.argument not in known:
            close = difflib.get_close_matches(section.argument, known, n=1)
            hint = (f"; did you mean [seats {close[0]}]?" if close
                    else f"; the first PBX's seats go in [seats], others need a [pbx {section.argument}]")
            reader.fail(section, section.title, None, f"no such PBX {section.argument!r}{hint}")
            continue
        groups.append((section.title, section.argument))
    for name in known:
        if f"seats {name}" not in values:
            reader.fail(None, f"pbx {name}", None, f"PBX {name!r} has no seats; add [seats {name}]")
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
        reader.fail(None, "seats", None, "no seats configured; add lines such as '01 = 1001'")
    for seat_id, item in entries.items():
        extension, _, name = item.value.partition(" ")
        if SEAT_NAME_FORBIDDEN.search(name):
            reader.fail(item, title, seat_id,
                        f"the seat name {name.strip()!r} may not contain \" \\ < > ; or control "
                        "characters (it is written into the PBX's caller id)")
            continue
        if not SEAT_ID.match(seat_id):
            reader.fail(item, title, seat_id,
                        "a seat id (工号) is 2 to 4 digits, e.g. 07")
            continue
        if not EXTENSION.match(extension):
            reader.fail(item, title, seat_id,
                        f"malformed extension {extension!r}; expected 3 to 6 digits, e.g. 1007")
            continue
        if extension in by_extension:
            reader.fail(item, title, seat_id, f"duplicate extension {extension} "
                                              f"(also seat {by_extension[extension].key} on line "
                                              f"{by_extension[extension].line})")
            continue
        by_extension[extension] = item
        password = passwords.get(seat_id)
        if password is None or not password.value:
            reader.fail(item, title, seat_id,
                        f"missing secret: no SIP password for seat {seat_id}; add "
                        f"'{seat_id} = ...' under [seat-passwords] in the secrets file")
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
            reader.fail(item, "seats", seat_id, f"duplicate seat id (same as "
                                                f"{seen[number].key} in {seen[number].file.name} "
                                                f"on line {seen[number].line})")
        seen[number] = item


def _directory(reader: _Reader, named: list[Section], values: dict[str, dict[str, Entry]],
               ) -> tuple[tuple[Department, ...], tuple[Expert, ...]]:
    departments: dict[str, Department] = {}
    for section in (s for s in named if s.kind == "department"):
        if section.argument in departments:
            reader.fail(section, section.title, None, "duplicate department")
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
            reader.fail(section, section.title, None, f"duplicate expert (also on line "
                                                      f"{seen.names[section.argument].line})")
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
            reader.fail(section, title, key, "missing; every expert needs it")
            return None
        return found

    department = need("department")
    if department and department.value not in departments:
        close = difflib.get_close_matches(department.value, list(departments), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        reader.fail(department, title, "department", f"no such department {department.value!r}{hint}")
    extension, number = section.get("extension"), section.get("number")
    if (extension is None) == (number is None):
        reader.fail(section, title, None, "give exactly one of 'extension' or 'number'")
    password = _expert_extension(reader, section, extension, seen) if extension is not None else ""
    if number is not None and not is_valid_phone(number.value):
        reader.fail(number, title, "number",
                    f"malformed phone number {number.value!r}; expected a mobile such as "
                    "13800138000 or a landline with area code such as 0571-87654321")
    duty_entry = need("duty")
    duty = reader.ranges(duty_entry, title, allow_closed=False, allow_midnight=True) if duty_entry else ()
    order_entry = need("order")
    order = reader.integer(order_entry, title, 1, 99) if order_entry else 1
    if department and order_entry:
        key = (department.value, order)
        if key in seen.orders:
            reader.fail(order_entry, title, "order", f"order {order} is already taken by "
                                                     f"[{seen.orders[key].title}]")
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
                    f"malformed extension {extension.value!r}; expected 3 to 6 digits")
    elif extension.value in seen.seat_extensions:
        reader.fail(extension, title, "extension", f"extension {extension.value} is already a seat's")
    elif extension.value in seen.extensions:
        reader.fail(extension, title, "extension",
                    f"duplicate extension (also [{seen.extensions[extension.value].title}])")
    else:
        seen.extensions[extension.value] = section
        secret = seen.passwords.get(extension.value)
        if secret is not None and secret.value:
            return secret.value
        reader.fail(extension, title, "extension",
                    f"missing secret: no SIP password for extension {extension.value}; "
                    "add it under [expert-passwords] in the secrets file")
    return ""

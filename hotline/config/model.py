"""The typed configuration of the hall: one immutable object the whole service reads."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from hotline.config.remit import RemitTable
from hotline.config.triage import TriageSettings

MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_URL_PASSWORD = re.compile(r"(://[^/:@]*:)[^/@]*@")
"""user:password@ in a database URL (the password part is masked in repr)."""


@dataclass(frozen=True, order=True)
class TimeRange:
    """Minutes since midnight, end exclusive; 24:00 is 1440. Never crosses midnight."""

    start: int
    end: int

    def contains(self, minute: int) -> bool:
        return self.start <= minute < self.end

    def overlaps(self, other: TimeRange) -> bool:
        return self.start < other.end and other.start < self.end

    @staticmethod
    def fmt(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    def __str__(self) -> str:
        return f"{self.fmt(self.start)}-{self.fmt(self.end)}"


def minute_of(moment: datetime | time) -> int:
    return moment.hour * 60 + moment.minute


@dataclass(frozen=True)
class HallConfig:
    name: str
    timezone: str
    secrets_file: Path | None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class QueueConfig:
    name: str
    strategy: str
    ring_timeout: int
    wrapup_seconds: int
    service_level_seconds: int
    overflow_seconds: int
    queue_log: Path = Path("/var/log/asterisk/queue_log")
    """Asterisk's queue_log as the service sees it: the books of every queue call, kept by
    Asterisk itself (telephony/queue_log_reader.py)."""


@dataclass(frozen=True)
class HoursConfig:
    """When the hall takes calls; the dialplan renders exactly this logic."""

    weekly: dict[int, tuple[TimeRange, ...]]  # ISO weekday 1..7
    holidays: frozenset[date]
    workdays: frozenset[date]
    workday_hours: tuple[TimeRange, ...]
    night_shift: tuple[TimeRange, ...]

    def ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        """Day-shift ranges for a date: holidays close, 调休 days open with workday hours."""
        if day in self.holidays:
            return ()
        if day in self.workdays:
            return self.workday_hours
        return self.weekly.get(day.isoweekday(), ())

    def is_open(self, local: datetime) -> bool:
        minute = minute_of(local)
        if any(r.contains(minute) for r in self.night_shift):
            return True
        return any(r.contains(minute) for r in self.ranges_on(local.date()))


@dataclass(frozen=True)
class VoicemailConfig:
    max_seconds: int
    pbx_spool: str
    spool: Path
    archive: Path


@dataclass(frozen=True)
class PromptsConfig:
    voice: str
    greeting: str
    after_hours: str
    operator_id: str
    overflow: str
    named_operator: str
    threeway_whisper: str
    rate: int = 230
    """Speaking rate of the synthesised prompts (espeak-ng words, about syllables, a minute)."""
    recording_notice: str = "本次通话将被录音。"

    def operator_id_for(self, seat_id: str) -> str:
        return self.operator_id.replace("{seat}", seat_id)


@dataclass(frozen=True)
class AmiConfig:
    host: str
    port: int
    username: str
    secret: str = field(repr=False)  # repr() of the configuration never shows a secret
    action_timeout: float


@dataclass(frozen=True)
class SipConfig:
    bind: str
    port: int
    rtp_start: int
    rtp_end: int


@dataclass(frozen=True)
class TrunkConfig:
    host: str
    username: str
    password: str = field(repr=False)
    prefix: str
    port: int = 5060


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = field(repr=False)

    def __repr__(self) -> str:
        """The URL with any password replaced, so logs and tracebacks never carry it."""
        masked = _URL_PASSWORD.sub(r"\1***@", self.url)
        return f"DatabaseConfig(url={masked!r})"


@dataclass(frozen=True)
class ApiConfig:
    bind: str
    port: int


@dataclass(frozen=True)
class VoskConfig:
    model: Path
    download_url: str = "https://alphacephei.com/vosk/models"  # `hotline model install` fetches here


@dataclass(frozen=True)
class CallbacksConfig:
    """The morning callback queue: how long a claim lasts, how often an unanswered call is retried."""

    claim_minutes: int = 15
    max_attempts: int = 3
    retry_minutes: int = 60


@dataclass(frozen=True)
class ThreewayConfig:
    """Three-way calls with department experts: how long each expert's phone rings."""

    expert_ring_seconds: int = 20


@dataclass(frozen=True)
class RecordingConfig:
    """质检 recording of every answered call in two tracks (operator, citizen) by Asterisk."""

    enabled: bool = True
    pbx_spool: str = "/var/spool/asterisk/hotline-calls"  # where Asterisk writes (a PBX path)
    spool: Path = Path("/var/spool/asterisk/hotline-calls")  # the same folder seen by the service
    archive: Path = Path("var/recordings")
    retention_days: int = 180  # recordings older than this are deleted


@dataclass(frozen=True)
class QualityConfig:
    """Limits of the automatic 质检 measures (see quality.measures.Limits for their meaning)."""

    too_fast_per_min: float = 260.0
    too_fast_flag_share: float = 0.2
    min_talk_over_s: float = 0.3
    talk_over_flag_count: int = 3
    long_silence_s: float = 5.0
    quiet_dbfs: float = -35.0
    clipping_share: float = 0.001
    sample_share: float = 0.03  # of each day's unflagged calls drawn for inspection
    # 名称:权重 pairs (parsed by quality.sampling)
    form: str = "服务态度:30, 政策解答正确:30, 语速与清晰度:20, 规范用语:20"


@dataclass(frozen=True)
class Seat:
    seat_id: str  # 工号, e.g. "07"
    extension: str  # the PJSIP endpoint the seat phone registers as
    password: str = field(repr=False)
    name: str = ""
    pbx: str = "main"  # the PBX (hall) the seat phone registers on


@dataclass(frozen=True)
class PbxConfig:
    """One Asterisk and its hall: how the service reaches it and which seats register on it."""

    name: str  # short key, e.g. "main" or "west": folder names, stored records, API filters
    display_name: str  # what people read on the wallboard and reports, e.g. 城西大厅
    ami: AmiConfig
    sip: SipConfig
    queue_log: Path
    seats: tuple[Seat, ...] = ()
    voicemail: VoicemailConfig | None = None
    """Its voicemail spool (None: the first PBX's [voicemail])."""
    recording: RecordingConfig | None = None
    """Its recording spool (None: the first PBX's [recording])."""


@dataclass(frozen=True)
class Department:
    name: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Expert:
    name: str
    department: str
    extension: str | None
    number: str | None
    duty: tuple[TimeRange, ...]
    order: int
    password: str = field(default="", repr=False)

    def on_duty(self, local: datetime) -> bool:
        minute = minute_of(local)
        return any(r.contains(minute) for r in self.duty)


@dataclass(frozen=True)
class HotlineConfig:
    path: Path
    hall: HallConfig
    queue: QueueConfig
    hours: HoursConfig
    voicemail: VoicemailConfig
    prompts: PromptsConfig
    ami: AmiConfig
    sip: SipConfig
    trunk: TrunkConfig | None
    database: DatabaseConfig
    api: ApiConfig
    vosk: VoskConfig
    seats: tuple[Seat, ...]
    departments: tuple[Department, ...]
    experts: tuple[Expert, ...] = field(default=())
    threeway: ThreewayConfig = field(default_factory=ThreewayConfig)
    callbacks: CallbacksConfig = field(default_factory=CallbacksConfig)
    triage: TriageSettings = field(default_factory=TriageSettings)
    remit: RemitTable = field(default_factory=lambda: RemitTable(()))
    recording: RecordingConfig = field(default_factory=RecordingConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    first_pbx: str = "main"
    """Name of the PBX described by [ami], [sip] and [seats]."""
    first_pbx_display: str = ""
    """Its hall's display name ([hall] pbx_hall; empty: the hotline's name)."""
    other_pbxes: tuple[PbxConfig, ...] = ()
    """[pbx NAME] sections; their seats live in `seats` (each Seat names its PBX)."""

    @property
    def pbxes(self) -> tuple[PbxConfig, ...]:
        """Every PBX, the first one first, each with only its own seats."""
        first = PbxConfig(self.first_pbx, self.first_pbx_display or self.hall.name, self.ami,
                          self.sip, self.queue.queue_log)
        return tuple(replace(p, seats=tuple(s for s in self.seats if s.pbx == p.name))
                     for p in (first, *self.other_pbxes))

    def pbx(self, name: str) -> PbxConfig | None:
        return next((p for p in self.pbxes if p.name == name), None)

    def for_pbx(self, name: str) -> HotlineConfig:
        """The configuration as one PBX sees it: its AMI, SIP, queue_log and only its seats.

        Everything written for a single PBX (the Hall, `pbx render`) takes this view unchanged.
        """
        pbx = self.pbx(name)
        if pbx is None:
            raise KeyError(name)
        return replace(self, ami=pbx.ami, sip=pbx.sip, seats=pbx.seats,
                       queue=replace(self.queue, queue_log=pbx.queue_log), first_pbx=pbx.name,
                       first_pbx_display=pbx.display_name, other_pbxes=(),
                       voicemail=pbx.voicemail or self.voicemail, recording=pbx.recording or self.recording)

    def seat(self, seat_id: str) -> Seat | None:
        return next((s for s in self.seats if s.seat_id == seat_id), None)

    def department(self, name: str) -> Department | None:
        return next((d for d in self.departments if d.name == name), None)

    def experts_of(self, department: str) -> list[Expert]:
        return sorted((e for e in self.experts if e.department == department), key=lambda e: e.order)

    def local_now(self) -> datetime:
        return datetime.now(self.hall.tz)

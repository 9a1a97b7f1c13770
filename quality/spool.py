"""What Asterisk leaves in the recording spool (see ivr/recording_plan.py), read without trusting it.

Per recording id: ``<id>.meta`` (key=value lines), ``<id>-operator.wav``, ``<id>-citizen.wav``,
and ``<id>.closed`` once MixMonitor has closed both files. Unrelated files are left alone.

Only regular files are taken, links never followed, and times must be plausible: the rules of
hotline.spoolfiles, shared with the voicemail spool. An entry named like a recording that is a
link, a pipe or a device is `refused`: never read, and the link itself removed with the entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hotline.spoolfiles import entry_kind, plausible_call_time

RECORDING_ID = re.compile(r"^[0-9A-Za-z_-]{1,100}$")
PARTS = {".meta": "meta", "-operator.wav": "operator", "-citizen.wav": "citizen", ".closed": "closed"}
SEAT_ID = re.compile(r"^\d{1,8}$")
NOT_REGULAR_ZH = "录音目录里的同名文件不是普通文件（如符号链接），未读取，已移除该链接"


@dataclass
class SpoolEntry:
    recording_id: str
    meta: Path | None = None
    operator: Path | None = None
    citizen: Path | None = None
    closed: Path | None = None
    refused: list[Path] = field(default_factory=list)  # links, pipes, devices: never read

    def files(self) -> list[Path]:
        """Audio first, the metadata last: a crash while releasing leaves a re-runnable entry."""
        taken = (self.operator, self.citizen, self.closed, self.meta)
        return [*self.refused, *(p for p in taken if p is not None)]

    def newest_mtime(self) -> float:
        return max((p.lstat().st_mtime for p in self.files() if entry_kind(p) is not None),
                   default=0.0)


@dataclass(frozen=True)
class RecordingMeta:
    linkedid: str | None = None
    seat_id: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    problems: tuple[str, ...] = field(default=())


def scan_recordings(spool: Path) -> list[SpoolEntry]:
    """Group the spool's files by recording id."""
    if not spool.is_dir():
        return []
    entries: dict[str, SpoolEntry] = {}
    for path in spool.iterdir():
        for suffix, part in PARTS.items():
            stem = path.name[: -len(suffix)]
            if not (path.name.endswith(suffix) and RECORDING_ID.match(stem)):
                continue
            kind = entry_kind(path)
            if kind == "file":
                setattr(entries.setdefault(stem, SpoolEntry(stem)), part, path)
            elif kind == "other":
                entries.setdefault(stem, SpoolEntry(stem)).refused.append(path)
            break
    return [entries[k] for k in sorted(entries)]


def _epoch(values: dict[str, str], key: str, problems: list[str]) -> datetime | None:
    text = values.get(key, "")
    if not text:
        return None
    try:
        moment = datetime.fromtimestamp(float(text), UTC)
    except (ValueError, OverflowError, OSError):
        moment = None
    if moment is None or not plausible_call_time(moment):
        problems.append(f"malformed {key} time {text[:20]!r}")
        return None
    return moment


def parse_recording_meta(text: str) -> RecordingMeta:
    values: dict[str, str] = {}
    problems: list[str] = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
        elif line.strip():
            problems.append(f"malformed metadata line {line[:40]!r}")
    seat = values.get("seat", "")
    if not SEAT_ID.match(seat):
        problems.append(f"seat missing or malformed ({seat[:10]!r})")
    started = _epoch(values, "started", problems)
    if started is None:
        problems.append("start time missing")
    return RecordingMeta(
        linkedid=values.get("linkedid") or None,
        seat_id=seat if SEAT_ID.match(seat) else None,
        started_at=started,
        ended_at=_epoch(values, "ended", problems),
        problems=tuple(problems),
    )

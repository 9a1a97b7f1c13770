"""What Asterisk leaves in the recording spool (see ivr/recording_plan.py), read without trusting it.

Per recording id: ``<id>.meta`` (key=value lines), ``<id>-operator.wav``, ``<id>-citizen.wav``,
and ``<id>.closed`` once MixMonitor has closed both files. Unrelated files are left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

RECORDING_ID = re.compile(r"^[0-9A-Za-z_-]{1,100}$")
PARTS = {".meta": "meta", "-operator.wav": "operator", "-citizen.wav": "citizen", ".closed": "closed"}
SEAT_ID = re.compile(r"^\d{1,8}$")


@dataclass
class SpoolEntry:
    recording_id: str
    meta: Path | None = None
    operator: Path | None = None
    citizen: Path | None = None
    closed: Path | None = None

    def files(self) -> list[Path]:
        """Audio first, the metadata last: a crash while releasing leaves a re-runnable entry."""
        return [p for p in (self.operator, self.citizen, self.closed, self.meta) if p is not None]

    def newest_mtime(self) -> float:
        return max((p.stat().st_mtime for p in self.files() if p.exists()), default=0.0)


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
        if not path.is_file():
            continue
        for suffix, part in PARTS.items():
            stem = path.name[: -len(suffix)]
            if path.name.endswith(suffix) and RECORDING_ID.match(stem):
                setattr(entries.setdefault(stem, SpoolEntry(stem)), part, path)
                break
    return [entries[k] for k in sorted(entries)]


def _epoch(values: dict[str, str], key: str, problems: list[str]) -> datetime | None:
    text = values.get(key, "")
    if not text:
        return None
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except (ValueError, OverflowError, OSError):
        problems.append(f"malformed {key} time {text[:20]!r}")
        return None


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

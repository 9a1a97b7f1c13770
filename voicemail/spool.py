"""What Asterisk leaves in the voicemail spool, read without trusting any of it.

The dialplan writes `<id>.meta` (key=value lines) before recording `<id>.wav`, and appends
`ended=` on hang-up. The service may be down all night, so everything it needs to register a
message must be in these two files.

Only regular files are taken, and links are never followed; call times must be plausible
(both rules live in hotline.spoolfiles, shared with the recording spool).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hotline.spoolfiles import EARLIEST_CALL, LATEST_CALL, entry_kind, plausible_call_time

AUDIO_SUFFIX = ".wav"
META_SUFFIX = ".meta"
# A recording id is Asterisk's Uniqueid with the dot replaced; anything else is not ours.
RECORDING_ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
WITHHELD_NUMBERS = {"", "anonymous", "unknown", "<unknown>", "restricted", "private"}
ROUTES = {"after_hours", "overflow"}
NOT_REGULAR_ZH = "留言目录里的同名文件不是普通文件（如符号链接），未读取，已移除该链接"

BAD_CALL_TIME = "来电时间格式错误"


@dataclass(frozen=True)
class SpoolMeta:
    """Metadata as the dialplan wrote it; `problems` lists what was missing or malformed."""

    uniqueid: str | None = None
    linkedid: str | None = None
    route: str | None = None
    caller_num: str | None = None
    caller_withheld: bool = False
    caller_name: str | None = None
    call_time: datetime | None = None
    ended: bool = False
    record_status: str | None = None
    problems: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class SpoolItem:
    recording_id: str
    audio: Path | None
    meta: Path | None
    # Entries with this recording's name that are links, pipes or devices: refused, never read.
    refused: tuple[Path, ...] = ()

    def newest_mtime(self) -> float:
        times = [p.lstat().st_mtime for p in (self.audio, self.meta, *self.refused)
                 if p is not None and p.exists()]
        return max(times, default=0.0)


def parse_meta(text: str) -> SpoolMeta:
    values: dict[str, str] = {}
    problems: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep:
            problems.append(f"元数据行格式错误：{line[:40]!r}")
            continue
        values[key.strip()] = value.strip()
    caller_num = values.get("caller_num", "").strip()
    withheld = values.get("caller_withheld") == "1" or caller_num.lower() in WITHHELD_NUMBERS
    caller_name = None
    if values.get("caller_name_b64"):
        try:
            caller_name = base64.b64decode(values["caller_name_b64"], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            problems.append("来电姓名无法解码（不是 base64 编码的 UTF-8）")
    call_time = None
    epoch = values.get("call_epoch", "")
    try:
        call_time = datetime.fromtimestamp(float(epoch), UTC) if epoch else None
    except (ValueError, OverflowError, OSError):
        problems.append(f"{BAD_CALL_TIME}：{epoch[:20]!r}")
    if call_time is not None and not plausible_call_time(call_time):
        # A year-9999 time parses, but cannot even be shown in the hall's zone (OverflowError
        # in every report): an implausible time is a problem, not a call time.
        problems.append(f"{BAD_CALL_TIME}：{epoch[:20]!r}（不在 {EARLIEST_CALL.year}–"
                        f"{LATEST_CALL.year - 1} 年之间）")
        call_time = None
    if call_time is None and BAD_CALL_TIME not in " ".join(problems):
        problems.append("缺少来电时间")
    route = values.get("route") or None
    if route not in ROUTES:
        problems.append(f"未知的来电路由：{route!r}")
        route = None
    if not values.get("uniqueid"):
        problems.append("缺少 Asterisk 通话标识（uniqueid）")
    return SpoolMeta(
        uniqueid=values.get("uniqueid") or None,
        linkedid=values.get("linkedid") or None,
        route=route,
        caller_num=None if withheld else caller_num,
        caller_withheld=withheld,
        caller_name=caller_name or None,
        call_time=call_time,
        ended="ended" in values,
        record_status=values.get("record_status") or None,
        problems=tuple(problems),
    )


def scan_spool(spool: Path) -> list[SpoolItem]:
    """Pair audio and metadata files by recording id; unrelated files are left alone."""
    if not spool.is_dir():
        return []
    found: dict[str, dict[str, Path]] = {}
    refused: dict[str, list[Path]] = {}
    for path in spool.iterdir():
        if path.suffix not in (AUDIO_SUFFIX, META_SUFFIX) or not RECORDING_ID.match(path.stem):
            continue
        kind = entry_kind(path)
        if kind == "file":
            found.setdefault(path.stem, {})[path.suffix] = path
        elif kind == "other":
            refused.setdefault(path.stem, []).append(path)
    return [SpoolItem(rid, found.get(rid, {}).get(AUDIO_SUFFIX), found.get(rid, {}).get(META_SUFFIX),
                      tuple(sorted(refused.get(rid, ()))))
            for rid in sorted(found.keys() | refused.keys())]

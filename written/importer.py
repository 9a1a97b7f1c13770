"""CSV and XLSX files of messages, read into checked rows; every bad row named by its line.

Pure apart from reading the bytes given. Columns are found by their header, Chinese or English
(渠道/channel, 留言人/author, 联系电话/contact, 留言内容/text, 留言时间/written_at,
留言部门/left_with), in any order. A file with any bad row is refused whole, so an import is
all or nothing and can simply be repeated once fixed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from openpyxl import load_workbook

from hotline.db.values import typed_text_ok
from written.errors import ImportRefused
from written.models import AUTHOR_MAX, CHANNELS, CONTACT_MAX, NAME_MAX, TEXT_MAX

HEADERS = {
    "channel": ("渠道", "channel"),
    "author": ("留言人", "姓名", "author"),
    "contact": ("联系电话", "电话", "contact"),
    "text": ("留言内容", "内容", "text"),
    "written_at": ("留言时间", "时间", "written_at"),
    "left_with": ("留言部门", "受理部门", "left_with"),
}
REQUIRED = ("channel", "author", "contact", "text", "written_at")
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class MessageIn:
    channel: str
    author: str
    contact: str
    text: str
    written_at: datetime
    left_with: str | None = None


def read_file(data: bytes, kind: str, tz: tzinfo) -> list[MessageIn]:
    """Rows of a CSV (UTF-8, with or without BOM, or GB18030) or XLSX file."""
    table = _xlsx_rows(data) if kind == "xlsx" or data.startswith(XLSX_MAGIC) else _csv_rows(data)
    if not table:
        raise ImportRefused(["文件是空的"])
    columns = _columns(table[0])
    messages, problems = [], []
    for line, row in enumerate(table[1:], start=2):
        if not any(str(cell or "").strip() for cell in row):
            continue
        try:
            messages.append(_message(row, columns, tz))
        except ValueError as exc:
            problems.append(f"第{line}行：{exc}")
    if problems:
        raise ImportRefused(problems)
    return messages


def _csv_rows(data: bytes) -> list[list[Any]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRefused(["CSV 文件既不是 UTF-8 也不是 GB18030 编码"])
    return [list(row) for row in csv.reader(io.StringIO(text))]


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ImportRefused([f"无法读取 XLSX 文件（{type(exc).__name__}）"]) from None
    sheet = book.worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    book.close()
    return rows


def _columns(header: list[Any]) -> dict[str, int]:
    names = [str(cell or "").strip().lower() for cell in header]
    found = {}
    for field, aliases in HEADERS.items():
        for alias in aliases:
            if alias.lower() in names:
                found[field] = names.index(alias.lower())
                break
    missing = [HEADERS[f][0] for f in REQUIRED if f not in found]
    if missing:
        raise ImportRefused([f"第1行（表头）缺少列：{'、'.join(missing)}"])
    return found


def _cell(row: list[Any], columns: dict[str, int], field: str) -> Any:
    index = columns.get(field)
    return row[index] if index is not None and index < len(row) else None


def _message(row: list[Any], columns: dict[str, int], tz: tzinfo) -> MessageIn:
    values = {f: _cell(row, columns, f) for f in HEADERS}
    channel = str(values["channel"] or "").strip()
    if channel not in CHANNELS:
        raise ValueError(f"渠道“{channel}”无效，应为{'或'.join(CHANNELS)}")
    author, contact = str(values["author"] or "").strip(), str(values["contact"] or "").strip()
    text = str(values["text"] or "").strip()
    left_with = str(values["left_with"] or "").strip() or None
    for name, value, limit in (("留言人", author, AUTHOR_MAX), ("联系电话", contact, CONTACT_MAX),
                               ("留言内容", text, TEXT_MAX), ("留言部门", left_with or "", NAME_MAX)):
        if len(value) > limit:
            raise ValueError(f"{name}超过{limit}个字符")
        if not typed_text_ok(value, multiline=name == "留言内容"):
            raise ValueError(f"{name}含有控制字符（如 NUL）")
    if not author:
        raise ValueError("缺少留言人")
    return MessageIn(channel, author, contact, text, parse_time(values["written_at"], tz), left_with)


def parse_time(value: Any, tz: tzinfo) -> datetime:
    """A cell's time: a datetime (XLSX) or text; without a zone it is the hall's local time."""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value or "").strip()
        moment = None
        for fmt in TIME_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if moment is None:
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                raise ValueError(f"留言时间“{text}”无法识别，应为 2026-12-03 09:15 这样的格式") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)

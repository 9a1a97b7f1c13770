"""What a value must look like before it is handed to the database: the one home of the rules.

SQLite stores anything; PostgreSQL refuses a text longer than its column and any NUL character
(in text and in JSONB alike), and a refused row used to stop every later row behind it. Each
writer passes its row through `fit_row` just before adding it: the row is made storable in place
and the caller gets one Chinese reason per change, to flag the row for a person to look at.

Rules: NUL characters are removed; a text longer than its column is dropped when the column may
be empty (a cut phone number is a wrong number that someone might dial) and cut otherwise. The
reasons never repeat the value itself: it may be a citizen's number.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import JSON, String, inspect

NUL = "\x00"

# What a person types into the API (a reason, a note, a comment, a written message): never a
# control character (Unicode category Cc; a NUL made PostgreSQL refuse the row with a 500), but a
# text of several lines keeps its line breaks and tabs. Stated in each body's schema (pattern=)
# and applied to imported files' cells, so the answer is a clear 422 before anything is stored.
ONE_LINE = r"^[^\x00-\x1f\x7f-\x9f]*$"
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


def typed_text_ok(value: str, multiline: bool = False) -> bool:
    """Whether `value` holds no control character (line breaks and tabs allowed if `multiline`)."""
    return re.match(MULTI_LINE if multiline else ONE_LINE, value) is not None
# Chinese names of the columns whose values come from outside (the caller, a spool file, a form).
LABELS_ZH = {
    "caller_num": "来电号码", "caller_name": "来电姓名", "citizen_number": "市民号码",
    "citizen_name": "市民姓名", "callback_number": "回拨号码", "pause_reason": "小休原因",
    "uniqueid": "通话编号", "linkedid": "关联通话编号", "queue": "队列",
}


def label_zh(column: str) -> str:
    """The column as a person reads it in a reason."""
    return LABELS_ZH.get(column, f"字段 {column} ")


def scrub_json(value: Any) -> tuple[Any, bool]:
    """A JSON document without NUL characters (PostgreSQL's JSONB refuses them); True if changed."""
    if isinstance(value, str):
        return (value.replace(NUL, ""), True) if NUL in value else (value, False)
    if isinstance(value, list):
        items = [scrub_json(item) for item in value]
        return [v for v, _ in items], any(c for _, c in items)
    if isinstance(value, dict):
        changed = False
        cleaned: dict[Any, Any] = {}
        for key, item in value.items():
            new_key, key_changed = scrub_json(key) if isinstance(key, str) else (key, False)
            new_item, item_changed = scrub_json(item)
            cleaned[new_key] = new_item
            changed = changed or key_changed or item_changed
        return cleaned, changed
    return value, False


def fit_text(value: str | None, limit: int | None, column: str,
             nullable: bool = True) -> tuple[str | None, list[str]]:
    """One text value made storable, with the Chinese reasons for what was changed."""
    if value is None:
        return None, []
    reasons: list[str] = []
    if NUL in value:
        value = value.replace(NUL, "")
        reasons.append(f"{label_zh(column)}含空字符（NUL），已删去")
    if limit is not None and len(value) > limit:
        if nullable:
            reasons.append(f"{label_zh(column)}长 {len(value)} 个字符，超过上限 {limit}，未保存")
            return None, reasons
        reasons.append(f"{label_zh(column)}长 {len(value)} 个字符，超过上限 {limit}，已截短")
        value = value[:limit]
    return value, reasons


def fit_row(row: Any) -> list[str]:
    """Make every text and JSON column of a mapped row storable in place; the reasons, in Chinese."""
    reasons: list[str] = []
    for attribute in inspect(type(row)).column_attrs:
        column = attribute.columns[0]
        value = getattr(row, attribute.key, None)
        if value is None:
            continue
        if isinstance(column.type, String) and isinstance(value, str):
            fitted, found = fit_text(value, column.type.length, attribute.key, bool(column.nullable))
        elif isinstance(column.type, JSON):
            fitted, changed = scrub_json(value)
            found = [f"{label_zh(attribute.key)}含空字符（NUL），已删去"] if changed else []
        else:
            continue
        if found:
            setattr(row, attribute.key, fitted)
            reasons.extend(found)
    return reasons

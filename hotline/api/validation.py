"""Invalid input (422) said in Chinese: which field, and what it should be.

Pydantic explains in English; a page shows the API's message to a person, so each kind of
problem (pydantic's stable `type`) gets its Chinese sentence here, its limits filled in from the
error's context. The field's path stays as data (`loc`) for clients; the rejected value is never
echoed (it may hold a phone number).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

CJK = re.compile(r"[\u4e00-\u9fff]")
SOURCES = {"query": "查询参数", "path": "路径参数", "body": "请求体", "header": "请求头",
           "cookie": "Cookie"}
"""Where FastAPI found the field (the first element of `loc`)."""
INVALID = "取值无效"
EXPLANATIONS: dict[str, str] = {
    "missing": "缺少此项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数，不能带小数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文本",
    "string_too_short": "太短：至少 {min_length} 个字符",
    "string_too_long": "太长：最多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不对",
    "too_short": "太少：至少 {min_length} 项",
    "too_long": "太多：最多 {max_length} 项",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "multiple_of": "应为 {multiple_of} 的倍数",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
    "date_parsing": "应为日期，例如 2026-10-01",
    "date_from_datetime_parsing": "应为日期，例如 2026-10-01",
    "date_type": "应为日期，例如 2026-10-01",
    "datetime_parsing": "应为日期时间，例如 2026-10-01T08:30:00+08:00",
    "datetime_from_date_parsing": "应为日期时间，例如 2026-10-01T08:30:00+08:00",
    "datetime_type": "应为日期时间，例如 2026-10-01T08:30:00+08:00",
    "timezone_aware": "应带时区，例如 2026-10-01T08:30:00+08:00",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "list_type": "应为列表",
    "extra_forbidden": "不接受此项",
    "uuid_parsing": "应为 UUID",
    "url_parsing": "应为网址",
}


def _choices(expected: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as 'a'、'b'、'c'."""
    return "、".join(part.strip() for part in re.split(r",| or ", expected) if part.strip())


def explain_invalid(error: Mapping[str, Any]) -> str:
    """What is wrong with one field, in Chinese."""
    kind = str(error.get("type", ""))
    context = dict(error.get("ctx") or {})
    if kind == "value_error":  # a validator of ours: its own text, when it is Chinese
        own = str(context.get("error", ""))
        return own if CJK.search(own) else INVALID
    template = EXPLANATIONS.get(kind)
    if template is None:
        return INVALID
    if "expected" in context:
        context["expected"] = _choices(str(context["expected"]))
    try:
        return template.format_map(context)
    except (KeyError, IndexError, ValueError):
        return template.split("：")[0]


def field_name(loc: Sequence[Any]) -> str:
    """`["query", "limit"]` as 查询参数 limit; `["body", "items", 0, "id"]` as 请求体 items[0].id."""
    if not loc:
        return "请求"
    source, *path = loc
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    where = SOURCES.get(str(source), str(source))
    return f"{where} {name}" if name else where


def invalid_request_message(problems: Sequence[Mapping[str, Any]]) -> str:
    """The 422's message: the first field and what is wrong with it, and how many more there are."""
    if not problems:
        return "请求有误"
    first = problems[0]
    loc = first["loc"][:1] if first.get("type") == "json_invalid" else first["loc"]  # [body, offset]
    text = f"请求有误：{field_name(loc)} {first['message']}"
    if len(problems) > 1:
        text += f"（共 {len(problems)} 处问题）"
    return text

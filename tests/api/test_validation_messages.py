"""A 422 says in Chinese which field is wrong and what it should be; the path stays as data."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from pydantic import BaseModel, Field

from hotline.api import create_app
from hotline.api.validation import INVALID, explain_invalid, field_name
from hotline.auth import Role, require_role
from hotline.config import HotlineConfig
from tests.api.helpers import TokenMaker, bearer


@pytest.mark.parametrize(("error", "expected"), [
    ({"type": "string_too_long", "ctx": {"max_length": 200}}, "太长：最多 200 个字符"),
    ({"type": "greater_than_equal", "ctx": {"ge": 1}}, "应不小于 1"),
    ({"type": "literal_error", "ctx": {"expected": "'valid', 'invalid' or 'duplicate'"}},
     "应为以下之一：'valid'、'invalid'、'duplicate'"),
    ({"type": "value_error", "ctx": {"error": ValueError("应为数字，不能是 true 或 false")}},
     "应为数字，不能是 true 或 false"),
    ({"type": "value_error", "ctx": {"error": ValueError("a number is required")}}, INVALID),
    ({"type": "some_new_pydantic_kind"}, INVALID),
    ({"type": "string_too_short"}, "太短"),  # no context: the limit is left out, not a crash
])
def test_each_kind_of_problem_is_explained_in_chinese(error: dict, expected: str) -> None:
    assert explain_invalid(error) == expected


def test_the_field_is_named_with_where_it_came_from() -> None:
    assert field_name(["query", "limit"]) == "查询参数 limit"
    assert field_name(["body", "items", 0, "id"]) == "请求体 items[0].id"
    assert field_name(["body"]) == "请求体"


class Pause(BaseModel):
    reason: str = Field(max_length=5)
    minutes: int = Field(ge=1)


def test_a_bad_body_names_every_field_in_chinese(config: HotlineConfig, make_token: TokenMaker) -> None:
    router = APIRouter(dependencies=[Depends(require_role(Role.OPERATOR))])

    @router.post("/pause")
    def pause(body: Pause) -> None:
        del body

    with TestClient(create_app(config, extra_routers=[router])) as client:
        answer = client.post("/api/pause", json={"reason": "午休午休午休", "minutes": 0},
                             headers=bearer(make_token(Role.OPERATOR)))
        unreadable = client.post("/api/pause", content=b"{not json",
                                 headers={**bearer(make_token(Role.OPERATOR, "op2")),
                                          "content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["error"] == {
        "code": "validation_error", "message": "请求有误：请求体 reason 太长：最多 5 个字符（共 2 处问题）",
        "detail": [{"loc": ["body", "reason"], "message": "太长：最多 5 个字符", "type": "string_too_long"},
                   {"loc": ["body", "minutes"], "message": "应不小于 1", "type": "greater_than_equal"}]}
    assert unreadable.status_code == 422
    assert unreadable.json()["error"]["message"] == "请求有误：请求体 不是有效的 JSON"

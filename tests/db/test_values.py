"""The rules a value meets before it reaches the database (hotline/db/values.py)."""

from __future__ import annotations

from hotline.db.values import fit_text, scrub_json


def test_nul_is_removed_and_said_in_chinese() -> None:
    assert fit_text("张\x00三", 200, "caller_name") == ("张三", ["来电姓名含空字符（NUL），已删去"])


def test_an_over_long_value_is_dropped_when_the_column_may_be_empty_else_cut() -> None:
    assert fit_text("1" * 33, 32, "caller_num") == (None, ["来电号码长 33 个字符，超过上限 32，未保存"])
    assert fit_text("1" * 32, 32, "caller_num") == ("1" * 32, [])
    assert fit_text("k" * 90, 80, "call_key", nullable=False) == (
        "k" * 80, ["字段 call_key 长 90 个字符，超过上限 80，已截短"])
    assert fit_text("工" * 200, 200, "caller_name") == ("工" * 200, [])


def test_json_documents_lose_their_nul_characters_keys_included() -> None:
    document = {"a\x00": ["x\x00y", 1, None, {"k": "v"}]}
    assert scrub_json(document) == ({"a": ["xy", 1, None, {"k": "v"}]}, True)
    assert scrub_json({"a": [1, "b"]}) == ({"a": [1, "b"]}, False)

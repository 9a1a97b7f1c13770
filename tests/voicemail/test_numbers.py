"""Callback numbers in Chinese text, written or spoken digit by digit."""

from __future__ import annotations

import pytest

from voicemail.numbers import LANDLINE, LOCAL, MOBILE, extract_numbers, normalise_caller, scan_numbers


def found(text: str) -> list[tuple[str, str]]:
    return [(n.digits, n.kind) for n in extract_numbers(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("请回电13912345678谢谢", [("13912345678", MOBILE)]),
    ("我的电话是幺三八 幺二三四 五六七八，谢谢", [("13812345678", MOBILE)]),
    ("号码 一 三 八 一 二 三 四 五 六 七 八", [("13812345678", MOBILE)]),  # Vosk's spaced digits
    ("手机一八六两零零零洞洞拐勾", [("18620000079", MOBILE)]),  # 两 洞 拐 勾
    ("打 138-1234-5678 找我", [("13812345678", MOBILE)]),
    ("+86 138 1234 5678", [("13812345678", MOBILE)]),
    ("国际格式 86 10 6234 5678", [("01062345678", LANDLINE)]),
    ("座机0755-86123456", [("075586123456", LANDLINE)]),
    ("北京的电话 010 6234 5678", [("01062345678", LANDLINE)]),
    ("电话 零幺零 六二三四 五六七八", [("01062345678", LANDLINE)]),
    ("区号零五七幺，八七六五四三二幺", [("057187654321", LANDLINE)]),
    ("本地电话 8765 4321", [("87654321", LOCAL)]),
    ("１３８１２３４５６７８", [("13812345678", MOBILE)]),  # full-width
])
def test_numbers_are_found_and_normalised(text: str, expected: list[tuple[str, str]]) -> None:
    assert found(text) == expected


def test_a_number_glued_to_a_digit_word() -> None:
    assert found("星期一一三八一二三四五六七八") == [("13812345678", MOBILE)]


def test_two_numbers_in_a_row_and_repeats() -> None:
    text = "一三八一二三四五六七八一三九一二三四五六七八，再说一遍一三八一二三四五六七八"
    assert found(text) == [("13812345678", MOBILE), ("13912345678", MOBILE)]


def test_positions_and_spoken_flag() -> None:
    text = "我的电话是幺三八幺二三四五六七八"
    (number,) = extract_numbers(text)
    assert number.spoken and text[number.start : number.end] == number.raw == "幺三八幺二三四五六七八"
    (written,) = extract_numbers("电话13812345678")
    assert not written.spoken


@pytest.mark.parametrize("text", [
    "我家住三楼，两个孩子",
    "我打了12345热线",
    "身份证号码110101199001011234",  # holds a "mobile" inside, but is no phone number
    "一百二十三块钱",
    "二零二四年三月五号",
])
def test_ordinary_numbers_are_not_phone_numbers(text: str) -> None:
    assert extract_numbers(text) == []


def test_incomplete_numbers_are_reported_as_unclear() -> None:
    scan = scan_numbers("号码是一三八一二三四五六七")  # one digit short
    assert scan.numbers == () and scan.unclear == ("1381234567",)
    assert scan_numbers("座机0755-12345678").unclear  # a local number never starts with 1


@pytest.mark.parametrize(("caller", "digits"), [
    ("13812345678", "13812345678"),
    ("+8613812345678", "13812345678"),
    ("008613812345678", "13812345678"),
    ("013812345678", "13812345678"),  # trunk prefix before a mobile
    ("0571-87654321", "057187654321"),
    ("+86 571 8765 4321", "057187654321"),
    ("87654321", "87654321"),
])
def test_caller_ids_are_normalised(caller: str, digits: str) -> None:
    number = normalise_caller(caller)
    assert number is not None and number.digits == digits


@pytest.mark.parametrize("caller", [None, "", "anonymous", "1001", "12345", "10086"])
def test_uncallable_caller_ids(caller: str | None) -> None:
    assert normalise_caller(caller) is None

"""Contact numbers on the written channels: real formats pass, implausible ones are explained."""

from __future__ import annotations

import pytest

from written.contact import check_contact


@pytest.mark.parametrize(("raw", "digits", "reason"), [
    ("13912873456", "13912873456", "手机号码，号段 139"),
    ("+86 139 1287 3456", "13912873456", "手机号码，号段 139"),
    ("0571-87023456", "057187023456", "固定电话，区号 0571"),
    ("(010)82376541", "01082376541", "固定电话，区号 010"),
    ("87023456", "87023456", "本地固定电话（未写区号）"),
])
def test_real_numbers_pass(raw: str, digits: str, reason: str) -> None:
    assert check_contact(raw).valid and check_contact(raw).digits == digits
    assert check_contact(raw).reason == reason


@pytest.mark.parametrize(("raw", "words"), [
    ("", "未留联系电话"),
    ("微信同号", "数字以外的字符"),
    ("13800138000", "测试号码"),
    ("12345", "测试号码"),
    ("123456", "位数太少"),
    ("1380013800", "应为11位"),
    ("11111111111", "重复数字"),
    ("15900000000", "重复数字"),
    ("0571-88888888", "重复数字"),
    ("13912345678", "测试号码"),
    ("13798765432", "连续数字"),
    ("0571-1234567", "连续数字"),
    ("14000000000", "号段"),
    ("15412873456", "号段"),
    ("0571-0287345", "区号或号码位数不对"),
])
def test_implausible_numbers_are_refused_with_the_reason(raw: str, words: str) -> None:
    check = check_contact(raw)
    assert not check.valid
    assert words in check.reason

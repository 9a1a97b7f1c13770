"""Is the contact number a citizen left a real, working number? Pure, explained in Chinese.

The format (a mobile, a landline with its area code, a local landline) is the one rule in
``voicemail.numbers``; this adds what makes a well-formed number implausible: an unassigned
mobile segment, the same digit repeated, digits counting up or down, a known test number, too
few digits. A manager auditing 30 messages finds about 3 false numbers; these are the usual ones.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from voicemail.numbers import LANDLINE, LOCAL, MOBILE, normalise_caller

# Numbers printed in examples and documentation, never a citizen's own.
KNOWN_TEST_NUMBERS = frozenset({
    "13800138000", "13800000000", "13888888888", "13900000000", "13912345678", "18888888888",
    "12345678901", "01012345678", "02112345678", "12345678", "88888888", "10086", "10010", "12345",
})
# Mobile segments assigned to carriers (三大运营商与广电、虚拟运营商), first three digits.
MOBILE_SEGMENTS = frozenset(
    [str(n) for n in range(130, 140)] + ["145", "146", "147", "148", "149"]
    + [str(n) for n in (150, 151, 152, 153, 155, 156, 157, 158, 159, 162, 165, 166, 167)]
    + [str(n) for n in (170, 171, 172, 173, 175, 176, 177, 178, 180, 181, 182, 183, 184, 185)]
    + [str(n) for n in (186, 187, 188, 189, 190, 191, 192, 193, 195, 196, 197, 198, 199)])
SEQUENCE_RUN = 6  # this many digits counting up or down in a row is not a real subscriber number
ALLOWED = re.compile(r"^[\d\s\-+()（）—－.·]+$")
MIN_DIGITS = 7


@dataclass(frozen=True)
class ContactCheck:
    valid: bool
    reason: str
    digits: str = ""


def check_contact(raw: str | None) -> ContactCheck:
    """Valid or not, and why, for a contact number as the citizen typed it."""
    text = (raw or "").strip()
    if not text:
        return ContactCheck(False, "未留联系电话")
    if not ALLOWED.match(text):
        return ContactCheck(False, f"联系电话“{text}”含有数字以外的字符")
    digits = re.sub(r"\D", "", text)
    if digits in KNOWN_TEST_NUMBERS:
        return ContactCheck(False, f"{digits} 是常见的测试号码，不是真实联系电话", digits)
    number = normalise_caller(text)
    if number is None:
        return ContactCheck(False, _format_problem(digits), digits)
    implausible = _implausible(number.digits, number.kind)
    if implausible:
        return ContactCheck(False, implausible, number.digits)
    return ContactCheck(True, _describe(number.digits, number.kind), number.digits)


def _format_problem(digits: str) -> str:
    """Why digits are not a Chinese phone number, in the terms a manager uses."""
    if len(digits) < MIN_DIGITS:
        return f"只有{len(digits)}位数字，位数太少，不是完整的电话号码"
    if len(set(digits)) == 1:
        return f"{digits} 全是重复数字"
    if _counting(digits):
        return f"{digits} 是连续数字"
    if digits.startswith("1"):
        if len(digits) != 11:
            return f"手机号码应为11位，这里是{len(digits)}位"
        return f"{digits[:3]} 不是手机号段"
    if digits.startswith("0"):
        return "固定电话的区号或号码位数不对（应为区号加7到8位号码，号码不以0或1开头）"
    return "不是手机号码，也不是固定电话号码"


def _subscriber(digits: str, kind: str) -> str:
    if kind == MOBILE:
        return digits[3:]
    if kind == LANDLINE:
        return digits[3:] if digits[:3] == "010" or digits[:2] == "02" else digits[4:]
    return digits


def _implausible(digits: str, kind: str) -> str | None:
    """A well-formed number nobody has: unassigned segment, one digit repeated, counting digits."""
    if kind == MOBILE and digits[:3] not in MOBILE_SEGMENTS:
        return f"{digits[:3]} 号段没有分配给任何运营商"
    subscriber = _subscriber(digits, kind)
    if len(set(subscriber)) == 1:
        return f"{digits} 的号码部分全是重复数字（{subscriber}）"
    if _counting(subscriber):
        return f"{digits} 的号码部分是连续数字（{subscriber}）"
    tail = subscriber[-(len(subscriber) - 1):]
    if kind == MOBILE and len(set(tail)) == 1:
        return f"{digits} 后{len(tail)}位全是同一个数字"
    return None


def _counting(digits: str) -> bool:
    """SEQUENCE_RUN or more digits counting up or down by one (0 follows 9)."""
    for step in (1, -1):
        run = 1
        for a, b in itertools.pairwise(digits):
            run = run + 1 if (int(b) - int(a)) % 10 == step % 10 else 1
            if run >= SEQUENCE_RUN:
                return True
    return False


def _describe(digits: str, kind: str) -> str:
    if kind == MOBILE:
        return f"手机号码，号段 {digits[:3]}"
    if kind == LANDLINE:
        area = digits[:3] if digits[:3] == "010" or digits[:2] == "02" else digits[:4]
        return f"固定电话，区号 {area}"
    if kind == LOCAL:
        return "本地固定电话（未写区号）"
    return "号码格式正确"

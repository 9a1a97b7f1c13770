"""Callback numbers in Chinese text: what a caller with a withheld number says to be called back on.

People read numbers digit by digit, often radio-style (幺 for 1, 洞 for 0, 两 for 2, 拐 for 7),
and the recogniser writes them with spaces, Arabic digits or a mix. Everything found is
normalised to digits and validated as a Chinese mobile, a landline with its area code, or a
local landline number (the hall's own area code implied).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

MOBILE = "mobile"
LANDLINE = "landline"  # with area code
LOCAL = "local"  # 7-8 digit landline without area code

# Digit characters as recognisers and people write them.
DIGITS = {
    **{str(d): str(d) for d in range(10)},
    **{chr(0xFF10 + d): str(d) for d in range(10)},  # full-width ０-９
    "零": "0", "〇": "0", "○": "0", "洞": "0",
    "一": "1", "幺": "1", "么": "1", "吆": "1",
    "二": "2", "两": "2",
    "三": "3", "四": "4", "五": "5", "六": "6",
    "七": "7", "拐": "7",
    "八": "8", "九": "9", "勾": "9",
}
SPOKEN_DIGITS = frozenset(c for c in DIGITS if not c.isascii() and not "０" <= c <= "９")
# What may stand between the digits of one number: spaces, dashes, dots, commas, brackets, 杠 ("dash").
SEPARATORS = frozenset(" \t\u3000-–—－_.·,，、/()（）杠")
MAX_SEPARATOR_RUN = 3
MIN_CANDIDATE_DIGITS = 7  # shorter runs are counts, floors, house numbers
MAX_CANDIDATE_DIGITS = 16  # longer: an id-card or account number, not a phone
MAX_UNEXPLAINED_DIGITS = 2  # digits of a run left over around the numbers found in it

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"(?:010|02\d)[2-8]\d{7}|0[3-9]\d\d[2-8]\d{6,7}")
_LOCAL = re.compile(r"[2-8]\d{6,7}")
_COUNTRY_PREFIX = re.compile(r"^(?:\+86|0086|86)")
# A number staff may type to be called back on, digits only, as a JSON Schema pattern (the API
# states it, so a client learns the rule from the schema): mobile, landline with area code, local.
CALLBACK_NUMBER_PATTERN = rf"^(?:{_MOBILE.pattern}|{_LANDLINE.pattern}|{_LOCAL.pattern})$"


@dataclass(frozen=True)
class PhoneNumber:
    digits: str  # digits only, area code included for landlines
    kind: str  # MOBILE, LANDLINE or LOCAL
    raw: str = ""  # as written in the text
    spoken: bool = False  # written (at least partly) in Chinese digits
    start: int = 0  # character offsets in the text
    end: int = 0


@dataclass(frozen=True)
class NumberScan:
    """Valid numbers found, and digit runs long enough to be a number that validate as none."""

    numbers: tuple[PhoneNumber, ...]
    unclear: tuple[str, ...]


def classify_digits(digits: str) -> str | None:
    """MOBILE, LANDLINE, LOCAL or None for a digits-only string."""
    if _MOBILE.fullmatch(digits):
        return MOBILE
    if _LANDLINE.fullmatch(digits):
        return LANDLINE
    if _LOCAL.fullmatch(digits):
        return LOCAL
    return None


def _national(digits: str) -> str | None:
    """Digits after a +86 / 0086 / 86 prefix in national form (landlines get their 0 back), if valid."""
    prefix = _COUNTRY_PREFIX.match(digits)
    if not prefix:
        return None
    rest = digits[prefix.end() :]
    if _MOBILE.fullmatch(rest):
        return rest
    return "0" + rest if _LANDLINE.fullmatch("0" + rest) else None


def normalise_caller(number: str | None) -> PhoneNumber | None:
    """Validate a caller id, dropping +86 / 0086 and the 0 some trunks put before mobiles."""
    if not number:
        return None
    digits = re.sub(r"[^\d+]", "", number.strip())
    digits = _national(digits) or digits.lstrip("+")
    if re.fullmatch(r"01[3-9]\d{9}", digits):
        digits = digits[1:]
    kind = classify_digits(digits)
    return PhoneNumber(digits, kind, number, False, 0, len(number)) if kind else None


def _digit_runs(text: str) -> list[list[tuple[int, str]]]:
    """Runs of (text index, digit) with at most a few separator characters between digits."""
    runs: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    gap = 0
    for i, char in enumerate(text):
        digit = DIGITS.get(char)
        if digit is not None:
            if current and gap > MAX_SEPARATOR_RUN:
                runs.append(current)
                current = []
            current.append((i, digit))
            gap = 0
        elif current and char in SEPARATORS:
            gap += 1
        else:
            if current:
                runs.append(current)
            current, gap = [], 0
    if current:
        runs.append(current)
    return runs


def _make(text: str, run: list[tuple[int, str]], first: int, last: int) -> PhoneNumber:
    start, end = run[first][0], run[last][0] + 1
    raw = text[start:end]
    digits = "".join(d for _, d in run[first : last + 1])
    return PhoneNumber(digits, classify_digits(digits) or "", raw,
                       any(c in SPOKEN_DIGITS for c in raw), start, end)


def _numbers_in_run(text: str, run: list[tuple[int, str]]) -> list[PhoneNumber]:
    digits = "".join(d for _, d in run)
    if classify_digits(digits):
        return [_make(text, run, 0, len(run) - 1)]
    national = _national(digits)
    if national:
        number = _make(text, run, 0, len(run) - 1)
        return [replace(number, digits=national, kind=classify_digits(national) or "")]
    # Longer runs: a number glued to a digit word (星期一 138…) or two numbers in a row. Only when
    # the numbers found explain nearly every digit: an id-card number holds a "mobile" too.
    found = []
    i = 0
    while i < len(digits):
        match = (_MOBILE.match(digits, i) or _LANDLINE.match(digits, i)) if digits[i] in "01" else None
        if match:
            found.append(_make(text, run, match.start(), match.end() - 1))
            i = match.end()
        else:
            i += 1
    explained = sum(len(number.digits) for number in found)
    return found if len(digits) - explained <= MAX_UNEXPLAINED_DIGITS else []


def scan_numbers(text: str) -> NumberScan:
    """Every valid number in the text (first mention first, no repeats) and the unclear digit runs."""
    numbers: list[PhoneNumber] = []
    unclear: list[str] = []
    seen: set[str] = set()
    for run in _digit_runs(text):
        if not MIN_CANDIDATE_DIGITS <= len(run) <= MAX_CANDIDATE_DIGITS * 2:
            continue
        found = _numbers_in_run(text, run)
        if not found and len(run) <= MAX_CANDIDATE_DIGITS:
            unclear.append("".join(d for _, d in run))
        for number in found:
            if number.digits not in seen:
                seen.add(number.digits)
                numbers.append(number)
    return NumberScan(tuple(numbers), tuple(unclear))


def extract_numbers(text: str) -> list[PhoneNumber]:
    """Valid callback numbers in the text, mobiles and landlines alike, in order of mention."""
    return list(scan_numbers(text).numbers)

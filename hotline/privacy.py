"""Citizens' phone numbers are personal data: one place decides who sees them whole, in number
fields (phone_for) and inside free text (text_for, data_for)."""

from __future__ import annotations

import re
from typing import Any

from hotline.auth.principal import Principal
from hotline.auth.roles import ROLES_SEEING_PHONE_NUMBERS

VISIBLE_HEAD = 3
VISIBLE_TAIL = 4
MASK = "*"
SHORT_NUMBER = VISIBLE_HEAD + VISIBLE_TAIL


def mask_phone(number: str | None) -> str | None:
    """138****8000: enough to recognise a repeat caller, not enough to dial."""
    if not number:
        return number
    if len(number) <= SHORT_NUMBER:
        return MASK * (len(number) - 2) + number[-2:] if len(number) > 2 else MASK * len(number)
    return number[:VISIBLE_HEAD] + MASK * (len(number) - SHORT_NUMBER) + number[-VISIBLE_TAIL:]


def phone_for(principal: Principal, number: str | None) -> str | None:
    return number if principal.role in ROLES_SEEING_PHONE_NUMBERS else mask_phone(number)


# Numbers inside free text (explanations, reasons, transcripts, a three-way party's name, a
# written message): a run of MIN_DIGITS or more digits, Arabic or spoken Chinese ("一三八 一二三四
# 五六七八", as Vosk writes a number read out), grouped by spaces or single hyphens as people
# write them (139-1287-3456, 0571-87654321), may be a citizen's number, so it is masked like one.
# Short numbers (durations, counts) and dates ("2026-11-28") stay readable.
MIN_DIGITS = 7
_DIGITS = "0-9０-９〇零一二三四五六七八九幺两"
_HYPHENS = "\\-－"
_DATE = rf"[0-9]{{4}}[{_HYPHENS}/][0-9]{{1,2}}[{_HYPHENS}/][0-9]{{1,2}}(?![0-9])"
_NUMBER_RUN = re.compile(rf"(?<![0-9])(?<![0-9][{_HYPHENS}])(?!{_DATE})"
                         rf"[{_DIGITS}](?:(?:[ \t\u3000]*|[{_HYPHENS}])[{_DIGITS}]){{{MIN_DIGITS - 1},}}")
"""Digits (not the middle of a longer number, not a date) with spaces or one hyphen between."""
_SPACES = re.compile(rf"[ \t\u3000{_HYPHENS}]+")


def mask_numbers_in(text: str | None) -> str | None:
    """Every run of MIN_DIGITS+ digits in `text` masked as mask_phone masks a number."""
    if not text:
        return text
    return _NUMBER_RUN.sub(lambda match: mask_phone(_SPACES.sub("", match.group())) or "", text)


def text_for(principal: Principal, text: str | None) -> str | None:
    """Free text as `principal` may read it: numbers in it masked for the monitor role."""
    return text if principal.role in ROLES_SEEING_PHONE_NUMBERS else mask_numbers_in(text)


def data_for(principal: Principal, value: Any) -> Any:
    """A JSON-like value (reasons: lists of dicts) with every string in it passed through
    text_for."""
    if principal.role in ROLES_SEEING_PHONE_NUMBERS:
        return value
    if isinstance(value, str):
        return mask_numbers_in(value)
    if isinstance(value, dict):
        return {key: data_for(principal, item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [data_for(principal, item) for item in value]
    return value

"""Citizens' phone numbers are personal data: one place decides who sees them whole."""

from __future__ import annotations

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

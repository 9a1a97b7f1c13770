"""The roles and what each may do.

- admin: everything, including managing tokens and configuration; implicitly allowed on
  every route (a route never has to list it).
- operator: the hall's day-to-day actions (pause a seat, claim a callback) plus every read.
- monitor: read-only dashboards; phone numbers of citizens are shown masked.
- inspector: 质检 — listens to the day's sample of recorded calls and scores them; reads like a
  monitor (citizens' numbers masked).

Routes name the roles they admit with `require_role(*roles)`; the tuples below are the usual
choices so that a route reads as its intent.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    MONITOR = "monitor"
    INSPECTOR = "inspector"


ROLE_NAMES: tuple[str, ...] = tuple(role.value for role in Role)
ROLE_ZH: dict[Role, str] = {Role.ADMIN: "管理员", Role.OPERATOR: "话务员", Role.MONITOR: "监控",
                            Role.INSPECTOR: "质检员"}
"""A role as a refusal names it to a person."""

READERS: tuple[Role, ...] = (Role.MONITOR, Role.OPERATOR, Role.ADMIN, Role.INSPECTOR)
"""Anyone with a valid token: dashboards, health, lists."""

OPERATORS: tuple[Role, ...] = (Role.OPERATOR, Role.ADMIN)
"""Changes the hall's state during a shift."""

ADMINS: tuple[Role, ...] = (Role.ADMIN,)
"""Tokens, configuration, anything destructive."""

ROLES_SEEING_PHONE_NUMBERS: frozenset[Role] = frozenset({Role.ADMIN, Role.OPERATOR})


def parse_role(value: str) -> Role:
    """The role named `value` (case-insensitive); ValueError naming the valid ones otherwise."""
    try:
        return Role(value.strip().lower())
    except ValueError:
        raise ValueError(f"未知的角色“{value.strip()}”，应为以下之一：{'、'.join(ROLE_NAMES)}") \
            from None

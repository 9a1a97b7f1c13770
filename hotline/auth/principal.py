"""Who is calling: the token's name and role, never the token itself."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.auth.roles import ROLES_SEEING_PHONE_NUMBERS, Role


@dataclass(frozen=True)
class Principal:
    """The authenticated caller, as routes and the audit log see it.

    How numbers are masked for a monitor lives in one place, hotline.privacy (phone_for).
    """

    name: str
    role: Role
    token_id: int | None = None
    seat: str | None = None
    """The one seat an operator token acts for (its explicit binding)."""
    team_lead: bool = False
    """A declared team lead's operator token acts for every seat."""

    @property
    def sees_phone_numbers(self) -> bool:
        """Monitors watch dashboards on shared screens: they get masked numbers."""
        return self.role in ROLES_SEEING_PHONE_NUMBERS


PRINCIPAL_STATE_KEY = "principal"
"""Where the auth dependency leaves the request's principal (request.state) for the request log."""

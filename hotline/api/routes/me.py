"""Who am I: lets a client check its token and adapt its screens to the role."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hotline.api.deps import ReaderDep
from hotline.auth import Role

router = APIRouter(tags=["auth"])


class MeOut(BaseModel):
    name: str = Field(examples=["wallboard-hall"])
    role: Role
    sees_phone_numbers: bool = Field(examples=[False])
    seat: str | None = Field(default=None, examples=["07"],
                             description="the one seat an operator token acts for")
    team_lead: bool = Field(default=False, description="an operator token acting for every seat")


@router.get("/me", summary="The calling token's identity")
async def me(principal: ReaderDep) -> MeOut:
    """The token's name and role, and whether citizens' numbers are shown to it unmasked."""
    return MeOut(name=principal.name, role=principal.role,
                 sees_phone_numbers=principal.sees_phone_numbers, seat=principal.seat,
                 team_lead=principal.team_lead)

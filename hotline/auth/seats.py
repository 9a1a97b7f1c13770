"""The own-seat rule, in one place: which seats a principal may act for.

A token is bound explicitly (api_tokens.seat / team_lead, set by `hotline token add`):
- admin: every seat;
- operator bound to a seat (`--seat 07`, or a token named "07"): that seat only;
- operator declared a team lead (`--team-lead`): every seat;
- operator bound to neither, and monitors: no seat.
Seat routes (pause, resume, log in/out…), three-way calls and `POST /api/callbacks/{id}/dial`
all call `require_own_seat`, so the rule cannot drift between them.
"""

from __future__ import annotations

from fastapi import HTTPException

from hotline.auth.principal import Principal
from hotline.auth.roles import Role

NOT_YOUR_SEAT = "not_your_seat"


def may_act_for_seat(principal: Principal, seat_id: str) -> bool:
    """Whether `principal` may act for seat `seat_id` (ids compared exactly: "7" is not "07")."""
    if principal.role is Role.ADMIN:
        return True
    if principal.role is not Role.OPERATOR:
        return False
    return principal.team_lead or (principal.seat is not None and principal.seat == seat_id)


def require_own_seat(principal: Principal, seat_id: str) -> None:
    """403 not_your_seat (the API's error shape) unless `principal` may act for `seat_id`."""
    if may_act_for_seat(principal, seat_id):
        return
    if principal.role is Role.OPERATOR and principal.seat is not None:
        message = f"token {principal.name!r} acts for seat {principal.seat} only, not {seat_id}"
    elif principal.role is Role.OPERATOR:
        message = (f"token {principal.name!r} is bound to no seat (an admin binds it with "
                   "`hotline token add --role operator --seat NN`, or declares a team lead "
                   "with --team-lead)")
    else:
        message = f"a {principal.role.value} token acts for no seat"
    raise HTTPException(403, detail={"code": NOT_YOUR_SEAT, "message": message})

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

from hotline.auth.errors import NotYourSeat
from hotline.auth.principal import Principal
from hotline.auth.roles import ROLE_ZH, Role

NOT_YOUR_SEAT = NotYourSeat.code


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
        message = f"令牌“{principal.name}”只能代表 {principal.seat} 号坐席，不能代表 {seat_id} 号"
    elif principal.role is Role.OPERATOR:
        message = (f"令牌“{principal.name}”未绑定坐席（管理员可用 hotline token add --role operator "
                   "--seat 工号 绑定，或用 --team-lead 设为班长）")
    else:
        message = f"{ROLE_ZH[principal.role]}令牌不能代表任何坐席"
    raise NotYourSeat(message, detail={"seat_id": seat_id})

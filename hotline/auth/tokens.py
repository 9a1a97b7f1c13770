"""Create, list, revoke and check API tokens.

A token is 32 random bytes: hashing it once with sha256 is enough (nothing to brute-force,
unlike a password), and lets a request be authenticated with one indexed lookup. Only the
hash is stored; the plaintext is returned once by `add_token` and never again.

Service functions work in the caller's session and do not commit: the change and its audit
entry are committed together by the caller.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.auth.models import SEAT_MAX, TOKEN_NAME_MAX, ApiToken
from hotline.auth.principal import Principal
from hotline.auth.roles import ROLE_ZH, Role, parse_role
from hotline.db.audit import SYSTEM_ACTOR, record_audit
from hotline.db.types import utcnow

TOKEN_PREFIX = "hl_"
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 256
# last_used_at is for "is this token still in use?", not an access log: writing it at most
# once a minute keeps a busy dashboard from turning every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
NAME_PATTERN = re.compile(rf"^[\w.@-]{{1,{TOKEN_NAME_MAX}}}$")
SEAT_PATTERN = re.compile(rf"^[0-9]{{1,{SEAT_MAX}}}$", re.ASCII)
"""A seat id (工号) as hotline.conf writes them: ASCII digits."""


class TokenError(ValueError):
    """A refused token operation; the message says what to fix."""


class DuplicateTokenName(TokenError):
    pass


class TokenNotFound(TokenError):
    pass


@dataclass(frozen=True)
class TokenInfo:
    """A token as listings show it: everything except the hash."""

    id: int
    name: str
    role: Role
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    seat: str | None = None
    team_lead: bool = False

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def of(cls, row: ApiToken) -> TokenInfo:
        return cls(row.id, row.name, Role(row.role), row.created_at, row.last_used_at,
                   row.revoked_at, row.seat, bool(row.team_lead))


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def generate_token() -> str:
    """A new token; the prefix lets secret scanners and humans recognise it."""
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def validate_name(name: str) -> str:
    name = name.strip()
    if not NAME_PATTERN.match(name):
        raise TokenError(f"令牌名称“{name}”不合规：应为 1 到 {TOKEN_NAME_MAX} 个字母、数字、"
                         ". - _ 或 @（例如 dashboard-hall 或 zhang.wei）")
    return name


def token_binding(name: str, role: Role, seat: str | None,
                  team_lead: bool) -> tuple[str | None, bool]:
    """The (seat, team_lead) a new token is bound to; TokenError when they do not fit the role.

    An operator token named like a seat id ("07") with no explicit binding is bound to that
    seat: named seat tokens keep working, but the binding is stored, not guessed per request."""
    if seat is not None:
        seat = seat.strip()
        if not SEAT_PATTERN.match(seat):
            raise TokenError(f"坐席“{seat}”不合规：工号应为 1 到 {SEAT_MAX} 位数字 0-9，例如 07")
    if role is not Role.OPERATOR and (seat is not None or team_lead):
        raise TokenError(f"只有话务员（operator）令牌可以绑定坐席或设为班长，"
                         f"{ROLE_ZH[role]}（{role.value}）令牌不行")
    if seat is not None and team_lead:
        raise TokenError("一个令牌要么绑定一个坐席，要么设为班长，不能两者兼有")
    if role is Role.OPERATOR and seat is None and not team_lead and SEAT_PATTERN.match(name):
        seat = name
    return seat, team_lead


def _active_by_name(session: Session, name: str) -> ApiToken | None:
    return session.scalar(select(ApiToken).where(ApiToken.name == name,
                                                 ApiToken.revoked_at.is_(None)))


def add_token(session: Session, name: str, role: Role | str, *, seat: str | None = None,
              team_lead: bool = False, actor: str = SYSTEM_ACTOR) -> str:
    """Create a token and return its plaintext, the only time it is ever available.

    Refuses an unknown role, a binding that does not fit it (see token_binding) or a name
    that already has an active token (TokenError).
    """
    name = validate_name(name)
    try:
        role = parse_role(role) if isinstance(role, str) else role
    except ValueError as exc:
        raise TokenError(str(exc)) from None
    seat, team_lead = token_binding(name, role, seat, team_lead)
    if _active_by_name(session, name) is not None:
        raise DuplicateTokenName(f"已有名为“{name}”的有效令牌：请先吊销它，或另取名称")
    plaintext = generate_token()
    row = ApiToken(name=name, role=role.value, token_hash=hash_token(plaintext),
                   created_at=utcnow(), seat=seat, team_lead=team_lead)
    session.add(row)
    try:
        session.flush()
    except IntegrityError as exc:  # created concurrently by someone else
        raise DuplicateTokenName(f"已有名为“{name}”的有效令牌") from exc
    record_audit(session, "token.add", actor=actor, target=f"token:{name}",
                 detail={"token_id": row.id, "role": role.value, "seat": seat, "team_lead": team_lead})
    return plaintext


def list_tokens(session: Session, *, include_revoked: bool = True) -> list[TokenInfo]:
    query = select(ApiToken).order_by(ApiToken.id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return [TokenInfo.of(row) for row in session.scalars(query)]


def revoke_token(session: Session, ref: str | int, *, actor: str = SYSTEM_ACTOR) -> TokenInfo:
    """Revoke the active token named `ref` (str) or the token with id `ref` (int).

    Effective immediately: the next request with it is answered 401.
    """
    if isinstance(ref, int):
        row = session.get(ApiToken, ref)
        if row is None:
            raise TokenNotFound(f"没有编号为 {ref} 的令牌")
        if row.revoked_at is not None:
            raise TokenNotFound(f"令牌 {ref}（{row.name}）已被吊销")
    else:
        row = _active_by_name(session, ref.strip())
        if row is None:
            raise TokenNotFound(f"没有名为“{ref.strip()}”的有效令牌")
    row.revoked_at = utcnow()
    record_audit(session, "token.revoke", actor=actor, target=f"token:{row.name}",
                 detail={"token_id": row.id, "role": row.role})
    session.flush()
    from hotline.auth.token_cache import forget_token  # here: token_cache imports this module

    forget_token(row.token_hash)
    return TokenInfo.of(row)


def authenticate(session: Session, plaintext: str, *,
                 now: datetime | None = None) -> Principal | None:
    """The principal a presented token stands for, or None if unknown or revoked.

    May update last_used_at; the caller commits.
    """
    if not plaintext or len(plaintext) > MAX_TOKEN_LENGTH:
        return None
    digest = hash_token(plaintext)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    # The lookup matched on the hash already; comparing again in constant time costs nothing
    # and keeps the check correct even if a collation ever made the lookup fuzzy.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    if row.revoked_at is not None:
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return Principal(name=row.name, role=Role(row.role), token_id=row.id, seat=row.seat,
                     team_lead=bool(row.team_lead))


def token_still_active(session: Session, token_id: int) -> bool:
    """Whether the token with this id exists and is not revoked: long-lived requests (the event
    stream) ask again every few seconds, so a revocation ends them too."""
    row = session.get(ApiToken, token_id)
    return row is not None and row.revoked_at is None

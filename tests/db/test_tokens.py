"""Token service: hashes only, one active token per name, revocation, last use."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotline.auth import (
    DuplicateTokenName,
    Role,
    TokenError,
    TokenNotFound,
    add_token,
    authenticate,
    list_tokens,
    revoke_token,
)
from hotline.auth.models import ApiToken
from hotline.auth.tokens import LAST_USED_RESOLUTION, TOKEN_PREFIX
from hotline.db import AuditEntry
from hotline.db.types import utcnow


def test_only_the_hash_is_stored_and_the_token_authenticates(
        sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        plaintext = add_token(session, "wallboard-hall", "monitor")
        session.commit()

    with sessions() as session:
        row = session.scalars(select(ApiToken)).one()
        principal = authenticate(session, plaintext)
    assert plaintext.startswith(TOKEN_PREFIX) and len(plaintext) > 40
    assert row.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in (row.token_hash, row.name)
    assert principal is not None
    assert (principal.name, principal.role, principal.token_id) == (
        "wallboard-hall", Role.MONITOR, row.id)


def test_each_token_is_different(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        tokens = {add_token(session, f"seat-{n:02d}", Role.OPERATOR) for n in range(20)}
    assert len(tokens) == 20


def test_unknown_and_tampered_tokens_are_rejected(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        plaintext = add_token(session, "ops", Role.OPERATOR)
        session.commit()
        assert authenticate(session, plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")) \
            is None
        assert authenticate(session, "") is None
        assert authenticate(session, "x" * 10_000) is None


def test_listing_never_carries_the_hash(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        add_token(session, "admin.li", Role.ADMIN)
        add_token(session, "ops", Role.OPERATOR)
        listed = list_tokens(session)
    assert [(t.name, t.role, t.active) for t in listed] == [
        ("admin.li", Role.ADMIN, True), ("ops", Role.OPERATOR, True)]
    assert all(not hasattr(t, "token_hash") for t in listed)


def test_unknown_role_and_bad_names_are_refused(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        with pytest.raises(TokenError, match="未知的角色“root”"):
            add_token(session, "x", "root")
        with pytest.raises(TokenError, match="令牌名称“has space”不合规"):
            add_token(session, "has space", Role.ADMIN)
        with pytest.raises(TokenError, match="令牌名称“”不合规"):
            add_token(session, "", Role.ADMIN)
        assert list_tokens(session) == []


def test_a_name_has_one_active_token_and_is_free_again_after_revocation(
        sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        first = add_token(session, "dashboard", Role.MONITOR)
        with pytest.raises(DuplicateTokenName):
            add_token(session, "dashboard", Role.ADMIN)
        revoked = revoke_token(session, "dashboard")
        second = add_token(session, "dashboard", Role.MONITOR)
        session.commit()

        assert revoked.revoked_at is not None
        assert authenticate(session, first) is None
        assert authenticate(session, second) is not None
        assert [t.active for t in list_tokens(session)] == [False, True]
        assert [t.active for t in list_tokens(session, include_revoked=False)] == [True]


def test_the_database_itself_refuses_two_active_tokens_with_one_name(
        sessions: sessionmaker[Session]) -> None:
    """The partial unique index catches a race the service check cannot see."""
    with sessions() as session:
        session.add_all([ApiToken(name="same", role="admin", token_hash="a" * 64,
                                  created_at=utcnow()),
                         ApiToken(name="same", role="admin", token_hash="b" * 64,
                                  created_at=utcnow())])
        with pytest.raises(IntegrityError):
            session.flush()


def test_the_database_refuses_an_unknown_role(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        session.add(ApiToken(name="x", role="root", token_hash="c" * 64, created_at=utcnow()))
        with pytest.raises(IntegrityError):
            session.flush()


def test_revoke_by_id_and_refusals(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        add_token(session, "ops", Role.OPERATOR)
        token_id = list_tokens(session)[0].id

        assert revoke_token(session, token_id).name == "ops"
        with pytest.raises(TokenNotFound, match="已被吊销"):
            revoke_token(session, token_id)
        with pytest.raises(TokenNotFound, match="没有编号为 999 的令牌"):
            revoke_token(session, 999)
        with pytest.raises(TokenNotFound, match="没有名为“ops”的有效令牌"):
            revoke_token(session, "ops")


def test_last_use_is_recorded_at_most_once_a_minute(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        plaintext = add_token(session, "ops", Role.OPERATOR)
        session.commit()
        start = utcnow()

        authenticate(session, plaintext, now=start)
        authenticate(session, plaintext, now=start + timedelta(seconds=5))
        session.commit()
        assert list_tokens(session)[0].last_used_at == start

        later = start + LAST_USED_RESOLUTION
        authenticate(session, plaintext, now=later)
        session.commit()
        assert list_tokens(session)[0].last_used_at == later


def test_changes_are_audited_with_the_actor(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        add_token(session, "ops", Role.OPERATOR, actor="cli:zhang")
        revoke_token(session, "ops", actor="admin.li")
        session.commit()
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor, e.target, e.detail["role"]) for e in entries] == [
        ("token.add", "cli:zhang", "token:ops", "operator"),
        ("token.revoke", "admin.li", "token:ops", "operator"),
    ]

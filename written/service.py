"""Store, audit and decide written messages: the thin shell around ``written.audit``.

Every function works in the caller's session and transaction, and every change is written to
the audit log in that same transaction (``hotline.db.audit``), so a refused request changes
nothing and a stored decision always has its audit entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.config.remit import RemitTable
from hotline.db.audit import record_audit
from hotline.db.types import utcnow
from written.audit import DUPLICATE_WINDOW, AdvertRules, Prior, audit_message
from written.contact import check_contact
from written.errors import (
    AlreadyDecided,
    DepartmentUnexpected,
    IdempotencyKeyReused,
    MessageNotFound,
    ReasonRequired,
    ReasonTooLong,
    UnknownAction,
    UnknownDepartment,
    UnknownSection,
)
from written.importer import MessageIn
from written.models import (
    REASON_MAX,
    STATE_APPROVED,
    STATE_RETURNED,
    STATE_TRANSFERRED,
    STATE_UNAUDITED,
    WrittenMessage,
)

ACTIONS = {"approve": STATE_APPROVED, "transfer": STATE_TRANSFERRED, "return": STATE_RETURNED}
ACTIONS_ZH = {"approve": "审核通过", "transfer": "转办", "return": "退回"}


@dataclass(frozen=True)
class Actor:
    name: str
    role: str


@dataclass(frozen=True)
class Rules:
    """What the audit reads from the configuration."""

    table: RemitTable
    adverts: AdvertRules


def digest(item: MessageIn) -> str:
    """What the website sent, reduced to a digest: a replayed key must carry the same message."""
    fields = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(item).items()}
    return hashlib.sha256(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def author_key(author: str, contact: str) -> str:
    """The same author: the same real number, or without one the same name."""
    check = check_contact(contact)
    return f"tel:{check.digits}" if check.valid else f"name:{author.strip()}"[:100]


def find_by_key(session: Session, key: str) -> WrittenMessage | None:
    return session.scalars(select(WrittenMessage).where(WrittenMessage.idempotency_key == key)).first()


def receive(session: Session, item: MessageIn, rules: Rules, actor: Actor, *, source: str,
            key: str | None = None) -> tuple[WrittenMessage, bool]:
    """Store and audit one message; with a key seen before, the stored one (created=False)."""
    sent = digest(item)
    if key is not None:
        existing = find_by_key(session, key)
        if existing is not None:
            if existing.payload_digest != sent:
                raise IdempotencyKeyReused("这个 Idempotency-Key 已用于另一条留言")
            return existing, False
    who = author_key(item.author, item.contact)
    earlier = session.scalars(select(WrittenMessage).where(
        WrittenMessage.author_key == who,
        WrittenMessage.written_at >= item.written_at - DUPLICATE_WINDOW,
        WrittenMessage.written_at <= item.written_at + DUPLICATE_WINDOW)).all()
    audit = audit_message(item.text, item.contact, item.written_at,
                          [Prior(p.id, p.text, p.written_at) for p in earlier], rules.table, rules.adverts)
    row = WrittenMessage(channel=item.channel, author=item.author, contact=item.contact, author_key=who,
                         text=item.text, written_at=item.written_at, left_with=item.left_with,
                         source=source, idempotency_key=key, payload_digest=sent, audit=audit,
                         state=STATE_UNAUDITED, received_at=utcnow())
    session.add(row)
    session.flush()
    record_audit(session, "written.received", actor=actor.name, role=actor.role,
                 target=f"written_message:{row.id}",
                 detail={"source": source, "channel": item.channel,
                         "recommendation": audit["recommendation"]})
    return row, True


def queue(session: Session) -> list[WrittenMessage]:
    """Unaudited messages in the order they were written."""
    return list(session.scalars(select(WrittenMessage).where(WrittenMessage.state == STATE_UNAUDITED)
                                .order_by(WrittenMessage.written_at, WrittenMessage.id)))


def decide(session: Session, message_id: int, action: str, rules: Rules, actor: Actor, *,
           department: str | None = None, section: str | None = None,
           reason: str | None = None) -> WrittenMessage:
    """审核通过, 转办 to a department of the remit table, or 退回 with a reason; audited."""
    row = session.get(WrittenMessage, message_id, with_for_update=True)
    if row is None:
        raise MessageNotFound(f"没有编号为 {message_id} 的留言")
    if action not in ACTIONS:
        raise UnknownAction("操作须为 " + "、".join(f"{a}（{ACTIONS_ZH[a]}）" for a in ACTIONS) + " 之一")
    reason = (reason or "").strip() or None
    _check_decision(action, department, section, reason, rules.table)
    if row.state != STATE_UNAUDITED:
        raise AlreadyDecided(f"留言 {message_id} 已经处理过（{row.state}）")
    row.state = ACTIONS[action]
    row.department = department if action == "transfer" else None
    row.section = (section or None) if action == "transfer" else None
    row.decision_reason = reason
    row.decided_by, row.decided_at = actor.name, utcnow()
    suggested = (row.audit.get("suggestions") or [{}])[0].get("department")
    record_audit(session, "written.decision", actor=actor.name, role=actor.role,
                 target=f"written_message:{row.id}",
                 detail={"action": action, "action_zh": ACTIONS_ZH[action], "department": row.department,
                         "section": row.section, "reason": reason, "suggested": suggested})
    return row


def _check_decision(action: str, department: str | None, section: str | None, reason: str | None,
                    table: RemitTable) -> None:
    if reason and len(reason) > REASON_MAX:
        raise ReasonTooLong(f"理由超过 {REASON_MAX} 个字")
    if action == "return" and not reason:
        raise ReasonRequired("退回须填写理由")
    if action != "transfer":
        if department or section:
            raise DepartmentUnexpected("只有转办才填写部门")
        return
    known = table.department(department or "")
    if known is None:
        raise UnknownDepartment(f"职责表中没有部门 {department!r}；已有的部门：" + "、".join(table.names))
    if section and section not in [s.name for s in known.sections]:
        raise UnknownSection(f"{known.name} 没有科室 {section!r}")

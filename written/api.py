"""HTTP routes of the written channels: intake (website and file import), the audit, decisions.

Roles: the website's system posts with an operator token (e.g. one named ``website``); the hall's
manager audits with an operator token; monitors read with contact numbers masked. Refusals use
the API's JSON error shape and roll back, so a refused request changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Request, Response, status
from pydantic import AwareDatetime, BaseModel, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.auth.deps import require_role
from hotline.auth.principal import Principal
from hotline.auth.roles import OPERATORS, READERS
from hotline.config import HotlineConfig
from hotline.db.session import get_session
from hotline.db.values import MULTI_LINE, ONE_LINE
from hotline.errors import BODY_BOUND_KEY
from hotline.privacy import data_for, phone_for, text_for
from written import service
from written.audit import AdvertRules
from written.errors import FileTooLarge, MessageNotFound
from written.importer import MessageIn, read_file
from written.models import (
    AUTHOR_MAX,
    CONTACT_MAX,
    KEY_MAX,
    NAME_MAX,
    REASON_MAX,
    TEXT_MAX,
    WrittenMessage,
)
from written.notify import DECIDED, RECEIVED, MessagesChanged, Notifier, silent

ID_MAX = 2**31 - 1
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")
IMPORT_MAX_BYTES = 5 * 1024 * 1024
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
router = APIRouter(prefix="/messages", tags=["written channels"])
NOT_FOUND = {404: {"description": "No written message with this id (message_not_found)"}}
RowId = Annotated[int, Path(ge=1, le=ID_MAX, examples=[1])]


class MessageInBody(BaseModel):
    channel: Literal["网上民声", "市长信箱"] = Field(examples=["网上民声"])
    author: str = Field(min_length=1, max_length=AUTHOR_MAX, pattern=ONE_LINE, examples=["王女士"])
    contact: str = Field(max_length=CONTACT_MAX, pattern=ONE_LINE, examples=["13912873456"])
    text: str = Field(max_length=TEXT_MAX, pattern=MULTI_LINE,
                      examples=["小区门口每天晚上有露天烧烤，油烟很大"])
    written_at: AwareDatetime = Field(description="ISO 8601 with its time zone",
                                      examples=["2026-12-03T09:15:00+08:00"])
    left_with: str | None = Field(None, max_length=NAME_MAX, pattern=ONE_LINE,
                                  description="the department it was left with",
                                  examples=["生态环境局"])

    @field_validator("written_at", mode="before")
    @classmethod
    def _iso_text(cls, value: Any) -> Any:
        """Only ISO 8601 text: a bare number would silently be read as a Unix timestamp."""
        if not isinstance(value, str) or not ISO_TIME.match(value):
            raise ValueError("应为带时区的 ISO 8601 日期时间，例如 2026-12-03T09:15:00+08:00")
        return value


class SuggestionOut(BaseModel):
    department: str = Field(examples=["城市管理局"])
    section: str = Field(examples=["综合执法支队"])
    reason: str = Field(examples=["匹配词：露天烧烤；露天烧烤属于占道经营，由城市管理局执法"])
    words: list[str] = Field(examples=[["露天烧烤"]])


class ContactOut(BaseModel):
    valid: bool = Field(examples=[True])
    reason: str = Field(examples=["手机号码，号段 139"])


class MessageOut(BaseModel):
    id: int = Field(examples=[1])
    channel: str = Field(examples=["网上民声"])
    author: str = Field(examples=["王女士"])
    contact_number: str | None = Field(description="as the citizen wrote it; masked (139****3456) "
                                                   "for the monitor role", examples=["13912873456"])
    text: str = Field(examples=["小区门口每天晚上有露天烧烤，油烟很大"])
    written_at: datetime = Field(examples=["2026-12-03T09:15:00+08:00"])
    left_with: str | None = Field(examples=["生态环境局"])
    source: str = Field(examples=["api"])
    state: str = Field(examples=["unaudited"])
    suggestions: list[SuggestionOut] = Field(description="best first")
    contact: ContactOut = Field(description="is the contact number real, and why")
    checks: dict[str, Any] = Field(description="substance, advert, duplicate: each with its Chinese reason",
                                   examples=[{"substance": {"ok": True, "reason": "有具体内容（18个汉字）"},
                                              "advert": {"is_advert": False, "words": [],
                                                         "reason": "未发现广告用语"},
                                              "duplicate": {"of": None, "share": 0.0,
                                                            "reason": "24小时内没有同一留言人的相同留言"}}])
    recommendation: str = Field(examples=["transfer"])
    summary: str = Field(examples=["建议转办城市管理局综合执法支队：匹配词：露天烧烤"])
    department: str | None = Field(description="转办 to", examples=[None])
    section: str | None = Field(examples=[None])
    decision_reason: str | None = Field(examples=[None])
    decided_by: str | None = Field(examples=[None])
    decided_at: datetime | None = Field(examples=[None])


class DecisionIn(BaseModel):
    action: Literal["approve", "transfer", "return"] = Field(description="审核通过 / 转办 / 退回",
                                                             examples=["transfer"])
    department: str | None = Field(None, max_length=NAME_MAX, pattern=ONE_LINE, examples=["城市管理局"])
    section: str | None = Field(None, max_length=NAME_MAX, pattern=ONE_LINE, examples=["综合执法支队"])
    reason: str | None = Field(None, max_length=REASON_MAX, pattern=MULTI_LINE, examples=["重复留言"])


class DepartmentOut(BaseModel):
    name: str = Field(examples=["城市管理局"])
    sections: list[str] = Field(examples=[["综合执法支队", "市政设施科"]])


class ImportOut(BaseModel):
    imported: int = Field(examples=[2])
    ids: list[int] = Field(examples=[[7, 8]])


def get_config(request: Request) -> HotlineConfig:
    return request.app.state.config


def get_notifier(request: Request) -> Notifier:
    """The notifier the composition root handed in (``app.state.written_notifier``), else silence."""
    return getattr(request.app.state, "written_notifier", silent)


def rules_of(config: HotlineConfig) -> service.Rules:
    triage = config.triage
    return service.Rules(config.remit, AdvertRules(triage.advert_keywords, triage.advert_min_hits,
                                                   triage.complaint_keywords))


@contextmanager
def unit(session: Session) -> Iterator[Session]:
    """Commit on success; on a refusal (or anything else) roll back, so it changes nothing (the
    refusal itself is rendered by the API's one handler)."""
    try:
        yield session
        session.commit()
    except Exception:
        session.rollback()
        raise


Work = Annotated[Session, Depends(get_session)]
Config = Annotated[HotlineConfig, Depends(get_config)]
Notify = Annotated[Notifier, Depends(get_notifier)]


def to_out(row: WrittenMessage, principal: Principal) -> dict[str, Any]:
    """The message as `principal` may read it: for a monitor every citizen's number is masked,
    in the contact field and wherever else it is written (the text, the audit's reasons)."""
    audit = row.audit or {}
    contact = audit.get("contact", {"valid": False, "reason": ""})
    return {
        "id": row.id, "channel": row.channel, "author": text_for(principal, row.author),
        "contact_number": phone_for(principal, row.contact), "text": text_for(principal, row.text),
        "written_at": row.written_at,
        "left_with": row.left_with, "source": row.source, "state": row.state,
        "suggestions": data_for(principal, audit.get("suggestions", [])),
        "contact": data_for(principal, contact),
        "checks": data_for(principal, {k: audit.get(k) for k in ("substance", "advert", "duplicate")}),
        "recommendation": audit.get("recommendation", ""),
        "summary": text_for(principal, audit.get("summary", "")),
        "department": row.department, "section": row.section,
        "decision_reason": text_for(principal, row.decision_reason),
        "decided_by": row.decided_by, "decided_at": row.decided_at,
    }


def _actor(principal: Principal) -> service.Actor:
    return service.Actor(principal.name, principal.role.value)


@router.post("", response_model=MessageOut, status_code=status.HTTP_201_CREATED,
             summary="Receive a message from the website",
             description="Role: operator or admin (the website's system). The Idempotency-Key header is "
                         "required: the same key with the same message answers 200 with the stored one; "
                         "with a different message 409 (idempotency_key_reused).",
             responses={200: {"description": "This key was seen before: the message stored then",
                              "model": MessageOut},
                        409: {"description": "The key was used for another message "
                                             "(idempotency_key_reused)"}})
def post_message(body: MessageInBody, response: Response, work: Work, config: Config, notify: Notify,
                 principal: Annotated[Principal, Depends(require_role(*OPERATORS))],
                 idempotency_key: Annotated[str, Header(min_length=1, max_length=KEY_MAX)]) -> dict[str, Any]:
    item = MessageIn(body.channel, body.author.strip(), body.contact.strip(), body.text, body.written_at,
                     (body.left_with or "").strip() or None)
    try:
        with unit(work):
            row, created = service.receive(work, item, rules_of(config), _actor(principal), source="api",
                                           key=idempotency_key)
    except IntegrityError:  # the same key at the same instant from a second request: now stored
        with unit(work):
            row, created = service.receive(work, item, rules_of(config), _actor(principal), source="api",
                                           key=idempotency_key)
    out = to_out(row, principal)
    if created:
        notify(MessagesChanged(RECEIVED, (out["id"],)))
    else:
        response.status_code = status.HTTP_200_OK
    return out


@router.post("/import", response_model=ImportOut, status_code=status.HTTP_201_CREATED,
             summary="Import a CSV or XLSX file of messages",
             description="Role: operator or admin. The file is the request body (Content-Type text/csv or "
                         f"{XLSX_TYPE}). Columns by header: 渠道, 留言人, 联系电话, 留言内容, 留言时间, "
                         "留言部门 (optional). All or nothing: any bad row refuses the file (422, "
                         "import_refused, each problem naming its row).",
             responses={413: {"description": "File over 5 MB (body_too_large, refused unread)"}},
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string"}},
                 XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}}},
                 BODY_BOUND_KEY: IMPORT_MAX_BYTES})
async def import_messages(request: Request, work: Work, config: Config, notify: Notify,
                          principal: Annotated[Principal, Depends(require_role(*OPERATORS))],
                          ) -> ImportOut:
    data = await request.body()
    if len(data) > IMPORT_MAX_BYTES:
        raise FileTooLarge("文件超过 5 MB")
    kind = "xlsx" if XLSX_TYPE in request.headers.get("content-type", "") else "csv"
    items = read_file(data, kind, config.hall.tz)  # ImportRefused: 422 with each bad row
    rules, actor = rules_of(config), _actor(principal)
    with unit(work):
        ids = [service.receive(work, item, rules, actor, source=kind)[0].id for item in items]
    if ids:
        notify(MessagesChanged(RECEIVED, tuple(ids)))
    return ImportOut(imported=len(ids), ids=ids)


@router.get("/queue", response_model=list[MessageOut], summary="Unaudited messages, oldest first",
            description="Role: monitor, operator or admin; contact numbers masked for monitor.")
def list_messages(work: Work,
                  principal: Annotated[Principal, Depends(require_role(*READERS))]) -> list[dict[str, Any]]:
    with unit(work):
        return [to_out(row, principal) for row in service.queue(work)]


@router.get("/{message_id:int}", response_model=MessageOut, summary="One message with its audit",
            description="Role: monitor, operator or admin. `suggestions` best first (department, "
                        "section, reason); `contact` says whether the number is real, and why.",
            responses=NOT_FOUND)
def get_message(message_id: RowId, work: Work,
                principal: Annotated[Principal, Depends(require_role(*READERS))]) -> dict[str, Any]:
    with unit(work):
        row = work.get(WrittenMessage, message_id)
        if row is None:
            raise MessageNotFound(f"没有编号为 {message_id} 的留言")
        return to_out(row, principal)


@router.post("/{message_id:int}/decision", response_model=MessageOut, summary="审核通过, 转办 or 退回",
             description="Role: operator or admin (the hall's manager). transfer needs a department of "
                         "the remit table (section optional); return needs a reason. Audited.",
             responses={**NOT_FOUND, 409: {"description": "Already decided (already_decided)"}})
def decide(message_id: RowId, body: DecisionIn, work: Work, config: Config, notify: Notify,
           principal: Annotated[Principal, Depends(require_role(*OPERATORS))]) -> dict[str, Any]:
    with unit(work):
        row = service.decide(work, message_id, body.action, rules_of(config), _actor(principal),
                             department=body.department, section=body.section, reason=body.reason)
        out = to_out(row, principal)
    notify(MessagesChanged(DECIDED, (out["id"],), out["state"]))
    return out


@router.get("/departments", response_model=list[DepartmentOut], summary="Where a message may be sent (转办)",
            description="Role: monitor, operator or admin. The remit table's departments and their sections, "
                        "in the table's order.")
def departments(config: Config,
                _principal: Annotated[Principal, Depends(require_role(*READERS))]) -> list[DepartmentOut]:
    return [DepartmentOut(name=d.name, sections=[s.name for s in d.sections])
            for d in config.remit.departments]

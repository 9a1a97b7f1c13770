"""HTTP routes of the voicemail register: list, show, the audio itself, and staff overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.auth.deps import require_role
from hotline.auth.principal import Principal
from hotline.auth.roles import OPERATORS, READERS
from hotline.db.session import get_session
from hotline.privacy import data_for, phone_for, text_for
from voicemail.ingest import resolve_archive_path
from voicemail.models import STATES, Voicemail
from voicemail.override import REASON_MAX, OverrideError, override_verdict

PAGE_DEFAULT = 50
PAGE_MAX = 500
ID_MAX = 2**31 - 1
"""Ids are INTEGER columns (32-bit on PostgreSQL); a larger number names no row, and SQLite
could not even bind it, so it is refused as invalid input rather than crashing the lookup."""
OFFSET_MAX = ID_MAX
EXAMPLE_ID = 1

# The error statuses each route may answer besides 401/403/422 (the body is the API's error shape).
NOT_FOUND = {404: {"description": "No voicemail with this id (voicemail_not_found)"}}
AUDIO_ERRORS = {
    404: {"description": "No voicemail with this id (voicemail_not_found), or it has no "
                         "recording (no_audio)"},
    410: {"description": "The register names a recording that is missing from the archive "
                         "(audio_missing)"},
}
OVERRIDE_ERRORS = {**NOT_FOUND, 409: {"description": "A valid verdict needs a number to call back "
                                                     "(no_callback_number)"}}

RowId = Annotated[int, Path(ge=1, le=ID_MAX, description="the row's id", examples=[EXAMPLE_ID])]

router = APIRouter(prefix="/voicemails", tags=["voicemail"])


class VoicemailOut(BaseModel):
    id: int = Field(examples=[EXAMPLE_ID])
    recording_id: str = Field(examples=["1764288000.17"])
    state: str = Field(examples=["new"])
    route: str | None = Field(examples=["after_hours"])
    caller_num: str | None = Field(description="masked (138****8000) for the monitor role",
                                   examples=["138****8000"])
    caller_withheld: bool = Field(examples=[False])
    caller_name: str | None = Field(examples=[None])
    call_time: datetime | None = Field(examples=["2026-11-27T23:12:40+08:00"])
    duration_s: float = Field(examples=[38.5])
    review_reasons: list[dict[str, Any]] = Field(examples=[[]])
    registered_at: datetime = Field(examples=["2026-11-27T23:13:20+08:00"])
    has_audio: bool = Field(examples=[True])
    triage_reasons: list[dict[str, Any]] | None = Field(
        None, examples=[[{"code": "speech", "detail": "31.2 s of speech"},
                         {"code": "department", "detail": "供水集团"}]])
    explanation_zh: str | None = Field(None, examples=["有效：人声 31 秒；建议转办供水集团"])
    department: str | None = Field(None, examples=["供水集团"])
    priority: str | None = Field(None, examples=["normal"])
    duplicate_of: int | None = Field(None, examples=[None])
    triaged_at: datetime | None = Field(None, examples=["2026-11-28T07:30:05+08:00"])
    override_by: str | None = Field(None, examples=[None])
    override_reason: str | None = Field(None, examples=[None])
    override_at: datetime | None = Field(None, examples=[None])


class VoicemailPage(BaseModel):
    total: int = Field(examples=[1])
    items: list[VoicemailOut]


def to_out(row: Voicemail, principal: Principal) -> VoicemailOut:
    return VoicemailOut(
        id=row.id, recording_id=row.recording_id, state=row.state, route=row.route,
        caller_num=phone_for(principal, row.caller_num), caller_withheld=row.caller_withheld,
        caller_name=row.caller_name, call_time=row.call_time, duration_s=row.duration_s,
        review_reasons=data_for(principal, row.review_reasons or []), registered_at=row.registered_at,
        has_audio=row.archive_name is not None, triage_reasons=data_for(principal, row.triage_reasons),
        explanation_zh=text_for(principal, row.explanation_zh), department=row.department,
        priority=row.priority,
        duplicate_of=row.duplicate_of, triaged_at=row.triaged_at, override_by=row.override_by,
        override_reason=row.override_reason, override_at=row.override_at,
    )


def _not_found(voicemail_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail={
        "code": "voicemail_not_found", "message": f"no voicemail with id {voicemail_id}"})


@router.get("", response_model=VoicemailPage, summary="List voicemails",
            description="Role: monitor, operator or admin. Newest first; numbers masked for monitor.")
def list_voicemails(
    principal: Annotated[Principal, Depends(require_role(*READERS))],
    session: Annotated[Session, Depends(get_session)],
    state: Annotated[str | None, Query(description="one of " + ", ".join(STATES),
                                       json_schema_extra={"enum": list(STATES)})] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> VoicemailPage:
    if state is not None and state not in STATES:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail={
            "code": "invalid_state", "message": f"unknown state {state!r}; expected one of "
                                                + ", ".join(STATES)})
    query = select(Voicemail)
    if state is not None:
        query = query.where(Voicemail.state == state)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Voicemail.call_time.desc().nulls_last(), Voicemail.id.desc())
                           .limit(limit).offset(offset)).all()
    return VoicemailPage(total=total, items=[to_out(row, principal) for row in rows])


@router.get("/{voicemail_id}", response_model=VoicemailOut, summary="Show one voicemail",
            description="Role: monitor, operator or admin.", responses=NOT_FOUND)
def show_voicemail(
    voicemail_id: RowId,
    principal: Annotated[Principal, Depends(require_role(*READERS))],
    session: Annotated[Session, Depends(get_session)],
) -> VoicemailOut:
    row = session.get(Voicemail, voicemail_id)
    if row is None:
        raise _not_found(voicemail_id)
    return to_out(row, principal)


@router.get("/{voicemail_id}/audio", summary="The recording (audio/wav)",
            description="Role: operator or admin. The file is looked up from the register, "
                        "never from a path in the request.",
            response_class=FileResponse,
            responses={200: {"content": {"audio/wav": {}}}, **AUDIO_ERRORS})
def voicemail_audio(
    voicemail_id: RowId,
    request: Request,
    _principal: Annotated[Principal, Depends(require_role(*OPERATORS))],
    session: Annotated[Session, Depends(get_session)],
) -> FileResponse:
    row = session.get(Voicemail, voicemail_id)
    if row is None:
        raise _not_found(voicemail_id)
    if row.archive_name is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={
            "code": "no_audio", "message": f"voicemail {voicemail_id} has no recording"})
    archive = request.app.state.config.voicemail.archive
    path = resolve_archive_path(archive, row.archive_name)
    if not path.is_file():
        raise HTTPException(status.HTTP_410_GONE, detail={
            "code": "audio_missing", "message": f"the archived audio of voicemail {voicemail_id} "
                                                "is missing from the archive"})
    return FileResponse(path, media_type="audio/wav", filename=f"voicemail-{voicemail_id}.wav")


class OverrideIn(BaseModel):
    verdict: Literal["valid", "invalid"]
    reason: str = Field(min_length=1, max_length=REASON_MAX, examples=["听了录音，是真实的燃气报修"])


class OverrideOut(BaseModel):
    voicemail: VoicemailOut
    previous_state: str = Field(examples=["needs_review"])
    callback_id: int | None = Field(examples=[3])


OVERRIDE_STATUS = {"voicemail_not_found": status.HTTP_404_NOT_FOUND,
                   "no_callback_number": status.HTTP_409_CONFLICT}


@router.post("/{voicemail_id}/override", response_model=OverrideOut, summary="Overrule triage",
             description="Role: operator or admin. Who and why are kept and audited; a message "
                         "made valid enters the callback queue (once).",
             responses=OVERRIDE_ERRORS)
def override_voicemail(
    voicemail_id: RowId,
    body: OverrideIn,
    principal: Annotated[Principal, Depends(require_role(*OPERATORS))],
    session: Annotated[Session, Depends(get_session)],
) -> OverrideOut:
    try:
        result = override_verdict(session, voicemail_id, body.verdict, body.reason,
                                  actor=principal.name, role=principal.role.value)
    except OverrideError as exc:
        session.rollback()
        raise HTTPException(OVERRIDE_STATUS.get(exc.code, status.HTTP_422_UNPROCESSABLE_CONTENT),
                            detail={"code": exc.code, "message": exc.message}) from None
    session.commit()
    row = session.get(Voicemail, voicemail_id)
    assert row is not None
    return OverrideOut(voicemail=to_out(row, principal), previous_state=result.previous,
                       callback_id=result.callback_id)

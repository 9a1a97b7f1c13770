"""HTTP routes of the voicemail register: list, show, the audio itself, and staff overrides."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline.auth.deps import OperatorDep, ReaderDep
from hotline.auth.principal import Principal
from hotline.db.session import SessionDep
from hotline.db.types import utcnow
from hotline.db.values import MULTI_LINE
from hotline.privacy import data_for, phone_for, text_for
from voicemail.audio_analysis import AudioFormatError, load_pcm
from voicemail.errors import AudioMissing, AudioUnreadable, InvalidState, NoAudio, VoicemailNotFound
from voicemail.ingest import resolve_archive_path
from voicemail.models import STATES, Voicemail
from voicemail.notifier import VoicemailNotifier, get_voicemail_notifier
from voicemail.numbers import CALLBACK_NUMBER_PATTERN
from voicemail.override import (
    OVERRIDE_VERDICTS,
    REASON_MAX,
    URGENCIES,
    Decision,
    OverrideResult,
    confirm_verdicts,
    override_verdict,
    same_caller_recent,
    undo_last,
)
from voicemail.screening import GROUPS, STRIP_STEP_S, energy_strip, load_night
from voicemail.triage import reasons_zh

log = logging.getLogger(__name__)

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
                                                     "(no_callback_number); the message changed "
                                                     "since the version you saw (version_conflict); "
                                                     "duplicate_of is not one of the same caller's "
                                                     "recent messages (invalid_duplicate_of)"}}
BATCH_ERRORS = {**NOT_FOUND, 409: {"description": "A message changed since the version you saw "
                                                  "(version_conflict) or has no machine verdict "
                                                  "(not_decided); nothing was confirmed"}}
UNDO_ERRORS = {409: {"description": "Nothing left to undo (nothing_to_undo), or the message changed "
                                    "since your decision (version_conflict)"}}

RowId = Annotated[int, Path(ge=1, le=ID_MAX, description="the row's id", examples=[EXAMPLE_ID])]
Notifier = Annotated[VoicemailNotifier, Depends(get_voicemail_notifier)]

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
    review_reasons: list[dict[str, Any]] = Field(
        description="what the spool's checks found; each with text_zh, the Chinese a person reads",
        examples=[[]])
    registered_at: datetime = Field(examples=["2026-11-27T23:13:20+08:00"])
    has_audio: bool = Field(examples=[True])
    triage_reasons: list[dict[str, Any]] | None = Field(
        None, description="the rules that decided (code, detail for the log), each with text_zh: the "
                          "Chinese a person reads",
        examples=[[{"code": "speech", "detail": "31.2 s in 38.5 s", "text_zh": "有人声"},
                   {"code": "department", "detail": "供水集团", "text_zh": "建议转办：供水集团"}]])
    explanation_zh: str | None = Field(None, examples=["有效：人声 31 秒；建议转办供水集团"])
    department: str | None = Field(None, examples=["供水集团"])
    priority: str | None = Field(None, examples=["normal"])
    duplicate_of: int | None = Field(None, examples=[None])
    triaged_at: datetime | None = Field(None, examples=["2026-11-28T07:30:05+08:00"])
    override_by: str | None = Field(None, examples=[None])
    override_reason: str | None = Field(None, examples=[None])
    override_at: datetime | None = Field(None, examples=[None])
    callback_number: str | None = Field(None, description="masked for the monitor role",
                                        examples=["13812348000"])
    version: int = Field(0, description="raised by every decision; send it back as expected_version",
                         examples=[1])
    transcript: str | None = Field(None, examples=["我家燃气管道漏气了"])


class VoicemailPage(BaseModel):
    total: int = Field(examples=[1])
    items: list[VoicemailOut]


def to_out(row: Voicemail, principal: Principal) -> VoicemailOut:
    return VoicemailOut(
        id=row.id, recording_id=row.recording_id, state=row.state, route=row.route,
        caller_num=phone_for(principal, row.caller_num), caller_withheld=row.caller_withheld,
        caller_name=row.caller_name, call_time=row.call_time, duration_s=row.duration_s,
        review_reasons=data_for(principal, reasons_zh(row.review_reasons)), registered_at=row.registered_at,
        has_audio=row.archive_name is not None,
        triage_reasons=data_for(principal, reasons_zh(row.triage_reasons) if row.triage_reasons is not None
                                else None),
        explanation_zh=text_for(principal, row.explanation_zh), department=row.department,
        priority=row.priority,
        duplicate_of=row.duplicate_of, triaged_at=row.triaged_at, override_by=row.override_by,
        override_reason=row.override_reason, override_at=row.override_at,
        callback_number=phone_for(principal, row.callback_number), version=row.version or 0,
        transcript=row.transcript,
    )


def _not_found(voicemail_id: int) -> VoicemailNotFound:
    return VoicemailNotFound(f"没有编号为 {voicemail_id} 的留言")


@router.get("", response_model=VoicemailPage, summary="List voicemails",
            description="Role: monitor, operator or admin. Newest first; numbers masked for monitor.")
def list_voicemails(
    principal: ReaderDep,
    session: SessionDep,
    state: Annotated[str | None, Query(description="one of " + ", ".join(STATES),
                                       json_schema_extra={"enum": list(STATES)})] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = PAGE_DEFAULT,
    offset: Annotated[int, Query(ge=0, le=OFFSET_MAX)] = 0,
) -> VoicemailPage:
    if state is not None and state not in STATES:
        raise InvalidState(f"未知的状态 {state!r}，应为 " + "、".join(STATES) + " 之一")
    query = select(Voicemail)
    if state is not None:
        query = query.where(Voicemail.state == state)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Voicemail.call_time.desc().nulls_last(), Voicemail.id.desc())
                           .limit(limit).offset(offset)).all()
    return VoicemailPage(total=total, items=[to_out(row, principal) for row in rows])


# /{voicemail_id:int} matches digits only, so /confirm and /undo asked with another method are
# answered 405 with `Allow: POST`, not taken for an id.
@router.get("/{voicemail_id:int}", response_model=VoicemailOut, summary="Show one voicemail",
            description="Role: monitor, operator or admin.", responses=NOT_FOUND)
def show_voicemail(
    voicemail_id: RowId,
    principal: ReaderDep,
    session: SessionDep,
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
    _principal: OperatorDep,
    session: SessionDep,
) -> FileResponse:
    path = _audio_path(session, request, voicemail_id)
    return FileResponse(path, media_type="audio/wav", filename=f"voicemail-{voicemail_id}.wav")


def _audio_path(session: Session, request: Request, voicemail_id: int) -> Any:
    row = session.get(Voicemail, voicemail_id)
    if row is None:
        raise _not_found(voicemail_id)
    if row.archive_name is None:
        raise NoAudio(f"留言 {voicemail_id} 没有录音")
    archive = request.app.state.config.voicemail.archive
    path = resolve_archive_path(archive, row.archive_name)
    if not path.is_file():
        raise AudioMissing(f"留言 {voicemail_id} 的录音已不在归档中")
    return path


def _no_bool(value: Any) -> Any:
    """JSON false is not the number 0 (pydantic would take it for one)."""
    if isinstance(value, bool):
        raise ValueError("应为数字，不能是 true 或 false")
    return value


class OverrideIn(BaseModel):
    verdict: Literal["valid", "invalid", "duplicate"] = Field(
        description="valid: call back; invalid: discard; duplicate: repeats `duplicate_of`",
        json_schema_extra={"enum": list(OVERRIDE_VERDICTS)})
    reason: str = Field(min_length=1, max_length=REASON_MAX, pattern=MULTI_LINE,
                        examples=["听了录音，是真实的燃气报修"])
    callback_number: str | None = Field(None, pattern=CALLBACK_NUMBER_PATTERN,
                                        description="for valid: the number to call back (the one "
                                        "heard in the message), digits only: a mobile, a landline "
                                        "with its area code, or a local number",
                                        examples=["13812345678"])
    department: str | None = Field(None, max_length=200, description="a department of the remit table",
                                   examples=["燃气公司"])
    urgency: Literal["urgent", "normal"] | None = Field(None, json_schema_extra={"enum": list(URGENCIES)},
                                                        examples=["urgent"])
    duplicate_of: int | None = Field(None, ge=1, le=ID_MAX, description="for duplicate: one of the same "
                                     "caller's recent messages", examples=[None])
    expected_version: int | None = Field(None, ge=0, le=ID_MAX, description="the version you decided on; "
                                         "refused (409 version_conflict) if the message changed since",
                                         examples=[1])

    _numbers = field_validator("duplicate_of", "expected_version", mode="before")(_no_bool)


class OverrideOut(BaseModel):
    voicemail: VoicemailOut
    previous_state: str = Field(examples=["needs_review"])
    callback_id: int | None = Field(examples=[3])
    audit_id: int = Field(0, examples=[12])


def _result_out(session: Session, result: OverrideResult, principal: Principal) -> OverrideOut:
    row = session.get(Voicemail, result.voicemail_id)
    assert row is not None
    return OverrideOut(voicemail=to_out(row, principal), previous_state=result.previous,
                       callback_id=result.callback_id, audit_id=result.audit_id)


@router.post("/{voicemail_id}/override", response_model=OverrideOut, summary="Decide a message (screening)",
             description="Role: operator or admin. Valid (with a validated callback number, department "
                         "and urgency), invalid, or duplicate of one of the same caller's recent "
                         "messages. Send expected_version so two screeners never decide one message "
                         "twice. Who, when, before and after are audited; a valid message enters the "
                         "callback queue (once).",
             responses=OVERRIDE_ERRORS)
def override_voicemail(
    voicemail_id: RowId,
    body: OverrideIn,
    request: Request,
    principal: OperatorDep,
    session: SessionDep,
    notifier: Notifier,
) -> OverrideOut:
    config = request.app.state.config
    decision = Decision(body.verdict, body.reason, body.callback_number, body.department, body.urgency,
                        body.duplicate_of, body.expected_version)
    result = override_verdict(session, voicemail_id, body.verdict, body.reason,
                              actor=principal.name, role=principal.role.value, decision=decision,
                              departments=set(config.remit.names),
                              duplicate_window=config.triage.duplicate_window)
    session.commit()
    notifier.overridden()
    return _result_out(session, result, principal)


class ConfirmItem(BaseModel):
    id: int = Field(ge=1, le=ID_MAX, examples=[EXAMPLE_ID])
    version: int = Field(ge=0, le=ID_MAX, description="the version you checked", examples=[1])

    _numbers = field_validator("id", "version", mode="before")(_no_bool)


class ConfirmIn(BaseModel):
    items: list[ConfirmItem] = Field(min_length=1, max_length=PAGE_MAX)
    reason: str = Field("抽查确认机器判定", min_length=1, max_length=REASON_MAX, pattern=MULTI_LINE,
                        examples=["抽查确认机器判定"])


class ConfirmOut(BaseModel):
    confirmed: list[OverrideOut]


@router.post("/confirm", response_model=ConfirmOut, summary="Confirm machine verdicts in one call",
             description="Role: operator or admin. The machine's valid/invalid verdicts of the listed "
                         "messages (spot-checked) are confirmed as a staff decision, each audited; all "
                         "or nothing.",
             responses=BATCH_ERRORS)
def confirm_machine_verdicts(
    body: ConfirmIn,
    principal: OperatorDep,
    session: SessionDep,
    notifier: Notifier,
) -> ConfirmOut:
    results = confirm_verdicts(session, [(i.id, i.version) for i in body.items], body.reason,
                               actor=principal.name, role=principal.role.value)
    session.commit()
    notifier.overridden()
    return ConfirmOut(confirmed=[_result_out(session, r, principal) for r in results])


@router.post("/undo", response_model=OverrideOut, summary="Undo your last decision",
             description="Role: operator or admin. Puts back the message as it was before your last "
                         "decision (callback queued or withdrawn to match), if nobody changed it since; "
                         "the undo is audited too.",
             responses=UNDO_ERRORS)
def undo_last_decision(
    principal: OperatorDep,
    session: SessionDep,
    notifier: Notifier,
) -> OverrideOut:
    result = undo_last(session, actor=principal.name, role=principal.role.value)
    session.commit()
    notifier.overridden()
    return _result_out(session, result, principal)


class RecentOut(BaseModel):
    items: list[VoicemailOut]


@router.get("/{voicemail_id}/same-caller", response_model=RecentOut,
            summary="The same caller's recent messages",
            description="Role: operator or admin. What a duplicate may name: the same number's other "
                        "messages within the duplicate window, newest first; for a withheld caller "
                        "who left no number, the other such withheld messages (compared by ear).",
            responses=NOT_FOUND)
def same_caller_messages(
    voicemail_id: RowId,
    request: Request,
    principal: OperatorDep,
    session: SessionDep,
) -> RecentOut:
    row = session.get(Voicemail, voicemail_id)
    if row is None:
        raise _not_found(voicemail_id)
    rows = same_caller_recent(session, row, request.app.state.config.triage.duplicate_window)
    return RecentOut(items=[to_out(r, principal) for r in rows])


class StripOut(BaseModel):
    duration_s: float = Field(examples=[12.4])
    step_s: float = Field(examples=[STRIP_STEP_S])
    levels_db: list[float] = Field(description="level of each step, dBFS (floored at -70)",
                                   examples=[[-70.0, -32.5, -21.0]])
    speech_segments: list[list[float]] = Field(description="[start, end] seconds of speech (triage's)",
                                               examples=[[[0.9, 5.4], [6.1, 11.0]]])


@router.get("/{voicemail_id}/strip", response_model=StripOut, summary="Energy strip and speech segments",
            description="Role: operator or admin. The recording's level every 0.1 s and the speech "
                        "segments triage found, for the screening desk to draw and to play speech only.",
            responses=AUDIO_ERRORS)
def voicemail_strip(
    voicemail_id: RowId,
    request: Request,
    _principal: OperatorDep,
    session: SessionDep,
) -> StripOut:
    path = _audio_path(session, request, voicemail_id)
    try:
        pcm = load_pcm(path)
    except AudioFormatError as exc:  # a file on disk, not a refusal the analysis could know of
        log.warning("voicemail %s: the strip cannot read %s: %s", voicemail_id, path, exc)
        raise AudioUnreadable(f"留言 {voicemail_id} 的录音格式无法识别，不能显示能量条") from None
    row = session.get(Voicemail, voicemail_id)
    segments = (row.features or {}).get("speech_segments") if row is not None else None
    return StripOut(duration_s=round(pcm.duration_s, 3), step_s=STRIP_STEP_S,
                    levels_db=energy_strip(pcm.samples),
                    speech_segments=[[float(a), float(b)] for a, b in segments or []])


class ScreeningGroup(BaseModel):
    key: Literal["needs_review", "valid", "invalid"] = Field(examples=["needs_review"])
    count: int = Field(examples=[1])
    items: list[VoicemailOut]


class ScreeningOut(BaseModel):
    since: datetime = Field(examples=["2026-11-27T08:00:00+08:00"])
    done: int = Field(description="decided or confirmed by staff", examples=[37])
    total: int = Field(examples=[212])
    groups: list[ScreeningGroup]


SCREENING_HOURS_DEFAULT = 24
SCREENING_HOURS_MAX = 24 * 14


@router.get("/screening", response_model=ScreeningOut, summary="The night's messages for the screening desk",
            description="Role: operator or admin. Messages triaged in the last `hours`: needs-review "
                        "first (urgent, then oldest), then machine-valid and machine-invalid for spot "
                        "checks; counts per group and how many staff have processed.")
def screening_night(
    principal: OperatorDep,
    session: SessionDep,
    hours: Annotated[int, Query(ge=1, le=SCREENING_HOURS_MAX)] = SCREENING_HOURS_DEFAULT,
) -> ScreeningOut:
    until = utcnow()
    since = until - timedelta(hours=hours)
    night = load_night(session, since, until + timedelta(minutes=1))
    return ScreeningOut(since=since, done=night.done, total=night.total, groups=[
        ScreeningGroup(key=key, count=len(night.groups[key]),
                       items=[to_out(row, principal) for row in night.groups[key]]) for key in GROUPS])

"""HTTP routes of 质检: the scoring form, the day's sample for inspectors, a recording's two tracks,
scoring, an operator's own scored calls, and the weekly summary per operator for supervisors.

The rules (sample, form, totals, summary) are in quality.sampling; these routes read and write the
store around them. Audio is looked up from the register, never from a path in the request.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hotline.auth.deps import require_role
from hotline.auth.principal import Principal
from hotline.auth.roles import Role
from hotline.auth.seats import may_act_for_seat
from hotline.db.session import SessionDep
from hotline.db.values import MULTI_LINE
from quality.errors import (
    AudioDeleted,
    FormMisconfigured,
    InvalidDate,
    InvalidRange,
    InvalidScores,
    NotYourCall,
    ReviewNotFound,
)
from quality.ingest import archive_path
from quality.models import COMMENT_MAX, CallRecording, QaReview
from quality.sampling import FormError, draw_sample, parse_form, total_score, weekly_summary

ID_MAX = 2**31 - 1
# YYYY-MM-DD only (no timestamps, no week dates); the calendar (no 02-30) is checked in _day.
DATE_PATTERN = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
SUMMARY_MAX_DAYS = 366
router = APIRouter(prefix="/qa", tags=["quality"])
Inspector = Annotated[Principal, Depends(require_role(Role.INSPECTOR))]
Listener = Annotated[Principal, Depends(require_role(Role.INSPECTOR, Role.OPERATOR))]
Supervisor = Annotated[Principal, Depends(require_role(Role.MONITOR, Role.INSPECTOR))]
Reader = Annotated[Principal, Depends(require_role(Role.MONITOR, Role.OPERATOR, Role.INSPECTOR))]
Db = SessionDep
ReviewId = Annotated[int, Path(ge=1, le=ID_MAX, description="the review's id", examples=[1])]
NOT_FOUND = {404: {"description": "No review with this id (review_not_found)"}}
DayQuery = Annotated[str, Query(pattern=DATE_PATTERN, description="the hall's local day",
                                examples=["2026-12-03"])]


def _day(text: str, name: str) -> date:
    """A YYYY-MM-DD the pattern let through may still name no day (2026-02-30)."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidDate(f"{name}={text} 不是有效日期") from None


class FormItemOut(BaseModel):
    name: str = Field(examples=["服务态度"])
    weight: float = Field(examples=[30])


class FormOut(BaseModel):
    items: list[FormItemOut]
    item_max: int = Field(100, examples=[100])


class ReviewOut(BaseModel):
    id: int = Field(examples=[1])
    recording_id: str = Field(examples=["1796294206-0-05"])
    day: date = Field(examples=["2026-12-03"])
    seat_id: str | None = Field(examples=["05"])
    reason: str = Field(description="flagged | random", examples=["flagged"])
    started_at: datetime | None = Field(examples=["2026-12-03T10:15:00+08:00"])
    duration_s: float = Field(examples=[184.2])
    has_audio: bool = Field(examples=[True])
    flags: list[str] = Field(examples=[["too_fast"]])
    measures: dict[str, Any] | None = Field(
        description="the automatic measures; `moments` are the flagged stretches (talk_over, silence, "
                    "too_fast, hold) in seconds of the recording, `segments` each track's speech "
                    "({operator: [[start, end], …], citizen: […]}), `phrases` the Chinese phrase checks "
                    "(or `skipped` with the reason, or `pending` while the transcript is made), "
                    "`hold_observed` false when the service did not watch the whole call",
        examples=[{"operator_syllables_per_min": 262.0}])
    inspector: str | None = Field(examples=[None])
    scores: dict[str, float] | None = Field(examples=[None])
    total: float | None = Field(examples=[None])
    comment: str | None = Field(examples=[None])
    scored_at: datetime | None = Field(examples=[None])


class ScoreIn(BaseModel):
    scores: dict[str, float] = Field(examples=[{"服务态度": 90, "政策解答正确": 80, "语速与清晰度": 60,
                                                "规范用语": 100}])
    comment: str = Field("", max_length=COMMENT_MAX, pattern=MULTI_LINE, examples=["语速偏快，请放慢。"])


def _form(request: Request) -> tuple:
    """The form of [quality] form; a form that cannot be used is the administrator's to fix."""
    try:
        return parse_form(request.app.state.config.quality.form)
    except FormError as exc:
        raise FormMisconfigured(f"hotline.conf [quality] form 配置有误：{exc}") from None


def _day_bounds(request: Request, day: date) -> tuple[datetime, datetime]:
    tz = request.app.state.config.hall.tz
    start = datetime.combine(day, time(0), tz).astimezone(UTC)
    return start, start + timedelta(days=1)


def _out(review: QaReview, recording: CallRecording | None) -> ReviewOut:
    return ReviewOut(
        id=review.id, recording_id=review.recording_id, day=review.day, seat_id=review.seat_id,
        reason=review.reason, started_at=recording.started_at if recording else None,
        duration_s=recording.duration_s if recording else 0.0,
        has_audio=bool(recording and recording.operator_file and recording.citizen_file),
        flags=(recording.flags or []) if recording else [],
        measures=recording.measures if recording else None,
        inspector=review.inspector, scores=review.scores, total=review.total, comment=review.comment,
        scored_at=review.scored_at)


def _with_recordings(session: Session, reviews: list[QaReview]) -> list[ReviewOut]:
    ids = [r.recording_id for r in reviews]
    found = {r.recording_id: r for r in session.scalars(
        select(CallRecording).where(CallRecording.recording_id.in_(ids)))} if ids else {}
    return [_out(r, found.get(r.recording_id)) for r in reviews]


FORM_ERRORS = {503: {"description": "[quality] form cannot be used (form_misconfigured)"}}


@router.get("/form", response_model=FormOut, responses=FORM_ERRORS,
            summary="The scoring form (items and weights)")
def show_form(request: Request, _principal: Reader) -> FormOut:
    return FormOut(items=[FormItemOut(name=i.name, weight=i.weight) for i in _form(request)])


def _draw(request: Request, session: Session, day: date) -> None:
    """Add the day's sample to the store once (drawing again adds only calls measured since)."""
    start, end = _day_bounds(request, day)
    calls = session.execute(select(CallRecording.recording_id, CallRecording.flags, CallRecording.seat_id)
                            .where(CallRecording.measured_at.is_not(None), CallRecording.started_at >= start,
                                   CallRecording.started_at < end)).all()
    seats = {rid: seat for rid, _flags, seat in calls}
    known = set(session.scalars(select(QaReview.recording_id).where(QaReview.day == day)))
    share = request.app.state.config.quality.sample_share
    for recording_id, reason in draw_sample(day, [(rid, flags or []) for rid, flags, _ in calls], share):
        if recording_id not in known:
            session.add(QaReview(recording_id=recording_id, day=day, seat_id=seats[recording_id],
                                 reason=reason))
    try:
        session.commit()
    except IntegrityError:  # drawn concurrently: the other request's rows stand
        session.rollback()


@router.get("/sample", response_model=list[ReviewOut], summary="The day's inspection sample")
def day_sample(request: Request, _principal: Inspector, session: Db, day: DayQuery) -> list[ReviewOut]:
    _draw(request, session, _day(day, "day"))
    reviews = list(session.scalars(select(QaReview).where(QaReview.day == _day(day, "day"))
                                   .order_by(QaReview.id)))
    return _with_recordings(session, reviews)


def _review(session: Session, review_id: int) -> QaReview:
    review = session.get(QaReview, review_id)
    if review is None:
        raise ReviewNotFound(f"抽检记录 {review_id} 不存在")
    return review


@router.post("/reviews/{review_id}/score", response_model=ReviewOut, responses={
    **NOT_FOUND, **FORM_ERRORS, 422: {"description": "Scores that do not fit the form (invalid_scores)"}},
    summary="Score a sampled call on the form")
def score_review(review_id: ReviewId, body: ScoreIn, request: Request, principal: Inspector,
                 session: Db) -> ReviewOut:
    review = _review(session, review_id)
    try:
        total = total_score(_form(request), body.scores)
    except FormError as exc:
        raise InvalidScores(str(exc)) from None
    review.scores, review.total, review.comment = dict(body.scores), total, body.comment.strip() or None
    review.inspector, review.scored_at = principal.name, datetime.now(UTC)
    session.commit()
    return _with_recordings(session, [review])[0]


@router.get("/reviews/{review_id}/audio/{track}", response_class=FileResponse, responses={
    200: {"content": {"audio/wav": {}}}, **NOT_FOUND,
    410: {"description": "The recording was deleted after its retention period (audio_deleted)"}},
    summary="One track of a sampled call (operators: their own calls only)")
def review_audio(review_id: ReviewId, track: Literal["operator", "citizen"], request: Request,
                 principal: Listener, session: Db) -> FileResponse:
    review = _review(session, review_id)
    if principal.role == Role.OPERATOR and not may_act_for_seat(principal, review.seat_id or ""):
        raise NotYourCall("坐席只能收听自己的通话录音")  # the one own-seat rule (hotline.auth.seats)
    recording = session.scalar(select(CallRecording).where(CallRecording.recording_id == review.recording_id))
    name = getattr(recording, f"{track}_file", None) if recording else None
    path = archive_path(request.app.state.config.recording.archive, name) if name else None
    if path is None or not path.is_file():
        raise AudioDeleted(f"抽检记录 {review_id} 的录音已超过保存期限或不存在")
    return FileResponse(path, media_type="audio/wav", filename=f"qa-{review_id}-{track}.wav")


@router.get("/mine", response_model=list[ReviewOut], summary="My scored calls (a seat's operator token)")
def my_reviews(principal: Annotated[Principal, Depends(require_role(Role.OPERATOR))], session: Db,
               ) -> list[ReviewOut]:
    if principal.seat is None:  # bound to no seat (a team lead has none of its own): no calls
        return []
    reviews = list(session.scalars(select(QaReview).where(
        QaReview.seat_id == principal.seat, QaReview.scored_at.is_not(None))
        .order_by(QaReview.scored_at.desc())))
    return _with_recordings(session, reviews)


class WeekOut(BaseModel):
    seat_id: str = Field(examples=["07"])
    week: str = Field(description="ISO week", examples=["2026-W49"])
    scored: int = Field(examples=[4])
    mean_score: float = Field(examples=[86.5])


@router.get("/summary", response_model=list[WeekOut], summary="Scores per operator and ISO week")
def summary(_principal: Supervisor, session: Db,
            first: Annotated[str, Query(alias="from", pattern=DATE_PATTERN, examples=["2026-11-30"])],
            last: Annotated[str, Query(alias="to", pattern=DATE_PATTERN, examples=["2026-12-06"])],
            ) -> list[dict[str, Any]]:
    start, end = _day(first, "from"), _day(last, "to")
    if end < start or (end - start).days > SUMMARY_MAX_DAYS:
        raise InvalidRange(f"日期范围无效：from 不能晚于 to，且最长 {SUMMARY_MAX_DAYS} 天")
    rows = session.execute(select(QaReview.seat_id, QaReview.day, QaReview.total).where(
        QaReview.total.is_not(None), QaReview.day >= start, QaReview.day <= end)).all()
    return weekly_summary((seat or "", day, total) for seat, day, total in rows)

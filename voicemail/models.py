"""The voicemail register: one row per message Asterisk recorded, never more, never fewer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base
from hotline.db.types import JSONDocument, UTCDateTime, utcnow

RECORDING_ID_MAX = 80
PHONE_MAX = 32
NAME_MAX = 200
STATE_MAX = 16
ROUTE_MAX = 16
SHA256_HEX = 64
ARCHIVE_NAME_MAX = 200
DEPARTMENT_MAX = 200
PRIORITY_MAX = 16
ACTOR_MAX = 200
OVERRIDE_REASON_MAX = 500
CLAIMANT_MAX = 128

# Lifecycle of a message: registered as "new" (awaiting triage) or "needs_review" when the
# spool held something odd; triage later moves it to valid / invalid / needs_review.
STATE_NEW = "new"
STATE_NEEDS_REVIEW = "needs_review"
STATE_VALID = "valid"
STATE_INVALID = "invalid"
STATES = (STATE_NEW, STATE_NEEDS_REVIEW, STATE_VALID, STATE_INVALID)
STATE_ZH = {STATE_NEW: "未分拣", STATE_NEEDS_REVIEW: "待人工复核", STATE_VALID: "有效", STATE_INVALID: "无效"}
"""The states as the refusals name them to a person."""


class Voicemail(Base):
    __tablename__ = "voicemails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Asterisk's Uniqueid as the spool names it: the idempotency key of ingestion.
    recording_id: Mapped[str] = mapped_column(String(RECORDING_ID_MAX), unique=True)
    uniqueid: Mapped[str | None] = mapped_column(String(RECORDING_ID_MAX))
    linkedid: Mapped[str | None] = mapped_column(String(RECORDING_ID_MAX))
    route: Mapped[str | None] = mapped_column(String(ROUTE_MAX))
    caller_num: Mapped[str | None] = mapped_column(String(PHONE_MAX))
    caller_withheld: Mapped[bool] = mapped_column(Boolean, default=False)
    caller_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    call_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    audio_sha256: Mapped[str | None] = mapped_column(String(SHA256_HEX))
    # Relative to the managed archive folder; never built from a request.
    archive_name: Mapped[str | None] = mapped_column(String(ARCHIVE_NAME_MAX))
    state: Mapped[str] = mapped_column(String(STATE_MAX), default=STATE_NEW)
    review_reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Triage: what was heard, why the verdict, and where a valid message goes.
    transcript: Mapped[str | None] = mapped_column(Text)
    transcript_words: Mapped[list[Any] | None] = mapped_column(JSONDocument)
    features: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    triage_reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONDocument)
    explanation_zh: Mapped[str | None] = mapped_column(Text)
    department: Mapped[str | None] = mapped_column(String(DEPARTMENT_MAX))
    priority: Mapped[str | None] = mapped_column(String(PRIORITY_MAX))
    callback_number: Mapped[str | None] = mapped_column(String(PHONE_MAX))
    # The fuller message this one repeats (same caller, similar content).
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    triage_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Which node is triaging it and until when (several nodes: none takes another's message).
    claimed_by: Mapped[str | None] = mapped_column(String(CLAIMANT_MAX))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A staff decision replacing the machine's: who and why are kept.
    override_by: Mapped[str | None] = mapped_column(String(ACTOR_MAX))
    override_reason: Mapped[str | None] = mapped_column(String(OVERRIDE_REASON_MAX))
    override_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Raised by every decision; a screener's decision names the version it saw (migration 0007).
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        Index("ix_voicemails_state_call_time", "state", "call_time"),
        Index("ix_voicemails_audio_sha256", "audio_sha256"),
        Index("ix_voicemails_caller_num_call_time", "caller_num", "call_time"),
    )

"""The register of call recordings: one row per recorded seat answer, never more, never fewer,
with the automatic measures once they are taken."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base
from hotline.db.types import JSONDocument, UTCDateTime, utcnow

RECORDING_ID_MAX = 100
ID_MAX = 80
SEAT_ID_MAX = 8
ARCHIVE_NAME_MAX = 200
SHA256_HEX = 64
REASON_MAX = 16
INSPECTOR_MAX = 200
COMMENT_MAX = 2000


class CallRecording(Base):
    __tablename__ = "call_recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # "<linkedid with '-'>-<工号>" as the spool names it: the idempotency key of ingestion.
    recording_id: Mapped[str] = mapped_column(String(RECORDING_ID_MAX), unique=True)
    linkedid: Mapped[str | None] = mapped_column(String(ID_MAX))  # the call record's linkedid
    seat_id: Mapped[str | None] = mapped_column(String(SEAT_ID_MAX))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_s: Mapped[float] = mapped_column(Float, default=0.0)
    # Relative to the managed archive; None once deleted after the retention period.
    operator_file: Mapped[str | None] = mapped_column(String(ARCHIVE_NAME_MAX))
    citizen_file: Mapped[str | None] = mapped_column(String(ARCHIVE_NAME_MAX))
    operator_sha256: Mapped[str | None] = mapped_column(String(SHA256_HEX))
    citizen_sha256: Mapped[str | None] = mapped_column(String(SHA256_HEX))
    problems: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    measures: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    flags: Mapped[list[str] | None] = mapped_column(JSONDocument)
    measured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the Chinese phrase checks were taken from a transcript (migration 0011); None: not yet.
    phrases_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_call_recordings_linkedid", "linkedid"),
        Index("ix_call_recordings_started_at", "started_at"),
        Index("ix_call_recordings_seat_started", "seat_id", "started_at"),
    )


class QaReview(Base):
    """A call drawn into a day's inspection sample, and the inspector's scores once given."""

    __tablename__ = "qa_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[str] = mapped_column(String(RECORDING_ID_MAX), unique=True)
    day: Mapped[date] = mapped_column(Date)  # the hall's local day of the call
    seat_id: Mapped[str | None] = mapped_column(String(SEAT_ID_MAX))
    reason: Mapped[str] = mapped_column(String(REASON_MAX))  # flagged | random
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    inspector: Mapped[str | None] = mapped_column(String(INSPECTOR_MAX))
    scores: Mapped[dict[str, float] | None] = mapped_column(JSONDocument)
    total: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    scored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_qa_reviews_day", "day"),
        Index("ix_qa_reviews_seat_scored", "seat_id", "scored_at"),
    )

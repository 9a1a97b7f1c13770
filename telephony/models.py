"""Stored call records and the day's counters, so the figures survive a service restart."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.db.base import Base
from hotline.db.types import JSONDocument, UTCDateTime, utcnow

ID_MAX = 80
PHONE_MAX = 32
NAME_MAX = 200
SEAT_ID_MAX = 8
QUEUE_MAX = 64
OUTCOME_MAX = 16
PBX_MAX = 32
FIRST_PBX = "main"

OUTCOME_ANSWERED = "answered"
OUTCOME_ABANDONED = "abandoned"


def call_key_of(pbx: str, key: str) -> str:
    """A call's unique key: Asterisk's ids are unique only within one PBX, so every PBX but
    "main" (the one PBX before there were several; its keys stay as they were) prefixes its name."""
    return key if pbx == FIRST_PBX else f"{pbx}:{key}"


class CallRecord(Base):
    """One finished citizen call: answered by a seat, or abandoned in the queue."""

    __tablename__ = "call_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Linkedid (answered) or the caller's Uniqueid (abandoned), plus the seat: unique per call leg.
    call_key: Mapped[str] = mapped_column(String(ID_MAX), unique=True)
    linkedid: Mapped[str | None] = mapped_column(String(ID_MAX))
    outcome: Mapped[str] = mapped_column(String(OUTCOME_MAX))
    queue: Mapped[str | None] = mapped_column(String(QUEUE_MAX))
    seat_id: Mapped[str | None] = mapped_column(String(SEAT_ID_MAX))
    citizen_number: Mapped[str | None] = mapped_column(String(PHONE_MAX))
    citizen_name: Mapped[str | None] = mapped_column(String(NAME_MAX))
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    queue_wait_seconds: Mapped[int | None] = mapped_column(Integer)
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
    three_way: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    # The PBX (hall) that carried the call ([hall] pbx or [pbx NAME] in hotline.conf).
    pbx: Mapped[str] = mapped_column(String(PBX_MAX), default=FIRST_PBX, server_default=FIRST_PBX)

    __table_args__ = (Index("ix_call_records_ended_at", "ended_at"), Index("ix_call_records_pbx", "pbx"))


class DailyStats(Base):
    """One hall's (PBX's) counters of one local day, as HallStats serialises them."""

    __tablename__ = "daily_stats"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    pbx: Mapped[str] = mapped_column(String(PBX_MAX), primary_key=True, default=FIRST_PBX,
                                     server_default=FIRST_PBX)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Voicemails and their callbacks written straight into the test database, with real audio."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.db import session_scope
from hotline.db.types import utcnow
from tests.voicemail.wavs import write_tone
from voicemail.callbacks.models import Callback, CallbackAttempt
from voicemail.callbacks.service import enqueue_callback
from voicemail.models import STATE_VALID, Voicemail

AUDIO_SECONDS = 1.5


@dataclass(frozen=True)
class Queued:
    callback_id: int
    voicemail_id: int
    number: str


def add_callback(sessions: sessionmaker[Session], archive: Path, *, number: str, name: str | None,
                 transcript: str, priority: str = "normal", department: str | None = "供水集团",
                 left_minutes_ago: int = 600) -> Queued:
    """A valid voicemail with its recording in `archive`, queued for a callback due now."""
    now = utcnow()
    with session_scope(sessions) as session:
        voicemail = Voicemail(recording_id=f"web-{number}-{now.timestamp()}", caller_num=number,
                              caller_name=name, state=STATE_VALID, transcript=transcript,
                              call_time=now - timedelta(minutes=left_minutes_ago),
                              review_reasons=[{"code": "speech", "detail": "1.5 s in 1.5 s"},
                                              {"code": "department", "detail": "供水集团（停水）"}],
                              explanation_zh="留言清楚，需回拨")
        session.add(voicemail)
        session.flush()
        voicemail.archive_name = f"{voicemail.id}.wav"
        write_tone(archive / voicemail.archive_name, AUDIO_SECONDS)
        row = enqueue_callback(session, voicemail.id, priority=priority, department=department,
                               number=number, transcript=transcript, now=now - timedelta(minutes=1))
        return Queued(row.id, voicemail.id, number)


def callback_row(sessions: sessionmaker[Session], callback_id: int) -> Callback:
    """The stored callback, read fresh."""
    with sessions() as session:
        row = session.get(Callback, callback_id)
        assert row is not None
        session.expunge(row)
        return row


def attempts(sessions: sessionmaker[Session], callback_id: int) -> list[tuple[str, str, str | None]]:
    """(staff, outcome, department) of each recorded attempt, in order."""
    with sessions() as session:
        rows = session.scalars(select(CallbackAttempt).where(CallbackAttempt.callback_id == callback_id)
                               .order_by(CallbackAttempt.attempt)).all()
        return [(row.staff, row.outcome, row.department) for row in rows]

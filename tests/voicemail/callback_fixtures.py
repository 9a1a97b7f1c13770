"""Voicemails and queued callbacks written straight into a migrated database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from hotline.db import session_scope
from voicemail.callbacks.models import Callback
from voicemail.callbacks.service import enqueue_callback
from voicemail.models import STATE_VALID, Voicemail

T0 = datetime(2026, 11, 26, 0, 30, tzinfo=UTC)  # 08:30 in the hall's zone
CALLER_NAMES = ("王女士", None, "欧阳建国")


def add_valid(sessions: sessionmaker[Session], count: int, *, priority: str = "normal",
              start: int = 0) -> list[int]:
    """`count` valid voicemails, one minute apart, each queued for a callback; their ids."""
    ids: list[int] = []
    with session_scope(sessions) as session:
        for index in range(start, start + count):
            vm = Voicemail(recording_id=f"rec-{index}-{priority}",
                           caller_num=f"137{index:08d}", caller_name=CALLER_NAMES[index % len(CALLER_NAMES)],
                           state=STATE_VALID,
                           call_time=T0 - timedelta(hours=10) + timedelta(minutes=index),
                           review_reasons=[{"code": "speech", "detail": "3.0 s in 4.0 s"}],
                           archive_name=f"{index}.wav")
            session.add(vm)
            session.flush()
            row = enqueue_callback(session, vm.id, priority=priority, department="供水集团",
                                   number=vm.caller_num or "", transcript="家里停水三天了",
                                   now=T0 - timedelta(hours=1))
            ids.append(row.id)
    return ids


def snapshot(session: Session) -> list[tuple[object, ...]]:
    """Every callback column, to show a refused request changed nothing."""
    rows = session.query(Callback).order_by(Callback.id).populate_existing().all()
    return [tuple(getattr(r, c.key) for c in Callback.__table__.columns) for r in rows]

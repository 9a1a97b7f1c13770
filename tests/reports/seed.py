"""The seeded store the reports tests read: tests.reports.test_figures' day (a Monday), plus
calls on the same weekday one and two weeks before it (the reference average), and callbacks of
messages left on the day (the funnel's last stages)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from hotline.db import session_scope
from tests.reports.test_figures import DAY, abandoned, add_call, add_voicemail, answered, at, fill_store, vm
from voicemail.callbacks.models import Callback

WEEK_BEFORE = DAY - timedelta(weeks=1)
TWO_WEEKS_BEFORE = DAY - timedelta(weeks=2)
REFERENCE_CALLS = (
    answered("01", at(WEEK_BEFORE, 9, 10, 5), 5, 100),  # arrived 09:10:00
    answered("02", at(WEEK_BEFORE, 9, 20, 5), 5, 100),
    abandoned(at(WEEK_BEFORE, 9, 30), 30),  # arrived 09:29:30
    answered("01", at(TWO_WEEKS_BEFORE, 9, 10, 5), 5, 100),
    abandoned(at(TWO_WEEKS_BEFORE, 15, 0, 10), 10),
)
"""Hour 9: 4 received, 3 answered, 1 abandoned over four weeks; hour 15: 1 abandoned."""
DAY_CALLBACKS = (  # state, attempts, resolution: of the day's messages
    ("closed", 2, "resolved"),  # called back, reached
    ("closed", 1, "transferred"),  # called back, reached
    ("queued", 1, None),  # called back, no answer yet
    ("queued", 0, None),  # not called yet
    ("closed", 0, "withdrawn"),  # never called
)
"""Of the day's messages 5 more valid, 3 called back, 2 reached."""


def add_day_callbacks(session: Session) -> None:
    for state, attempts, resolution in DAY_CALLBACKS:
        voicemail_id = add_voicemail(session, vm("valid", "speech", "callback"))
        session.add(Callback(voicemail_id=voicemail_id, number="13812348001", priority="normal",
                             priority_rank=1, received_at=at(DAY, 3), state=state, due_at=at(DAY, 4),
                             attempts=attempts, resolution=resolution,
                             closed_at=at(DAY, 11) if state == "closed" else None))


def seed(sessions: sessionmaker[Session]) -> None:
    fill_store(sessions)
    with session_scope(sessions) as session:
        for row in REFERENCE_CALLS:
            add_call(session, row)
        add_day_callbacks(session)

"""The seeded store the reports tests read: tests.reports.test_figures' day (a Monday), plus
calls on the same weekday one and two weeks before it (the reference average)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from hotline.db import session_scope
from tests.reports.test_figures import DAY, abandoned, add_call, answered, at, fill_store

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


def seed(sessions: sessionmaker[Session]) -> None:
    fill_store(sessions)
    with session_scope(sessions) as session:
        for row in REFERENCE_CALLS:
            add_call(session, row)

"""The voicemail funnel follows the range's own messages to their callbacks, on SQLite and
PostgreSQL: called back = at least one attempt made, reached = closed resolved or transferred."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from hotline.db import session_scope
from hotline.reports.figures import ReportPeriod, VoicemailRow
from hotline.reports.fold import funnel
from hotline.reports.store import load_report
from tests.reports.seed import add_day_callbacks
from tests.reports.test_figures import (
    DAY,
    NEXT,
    SEATS,
    THRESHOLD,
    TZ,
    at,
    fill_store,
    report_of,
)


def test_a_message_counts_as_called_back_once_dialled_and_as_reached_once_resolved() -> None:
    rows = [VoicemailRow("valid", at(DAY, 2), callback_attempts=attempts, callback_resolution=resolution)
            for attempts, resolution in ((0, None), (1, None), (3, "unreachable"), (1, "resolved"),
                                         (2, "transferred"), (0, "withdrawn"))]
    shown = funnel(report_of(voicemails=rows).voicemails)
    assert (shown.received, shown.valid, shown.called_back, shown.reached) == (6, 6, 4, 2)


def test_the_store_follows_the_range_messages_to_their_callbacks(
        sessions: sessionmaker[Session]) -> None:
    fill_store(sessions)  # callbacks of earlier messages, closed on DAY: not this range's
    with session_scope(sessions) as session:
        add_day_callbacks(session)
    with sessions() as session:
        report = load_report(session, ReportPeriod(DAY, DAY, TZ), THRESHOLD, now=at(NEXT, 12),
                             seat_ids=SEATS)
    shown = funnel(report.voicemails)
    assert (shown.called_back, shown.reached) == (3, 2)
    assert report.callbacks.closed == 6 + 3  # /api/stats: by the day they closed, every message's

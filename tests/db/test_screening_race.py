"""Two screeners decide the same message at the same moment: exactly one decision stands.

Runs on SQLite and on PostgreSQL (the version check is a conditional UPDATE: PostgreSQL re-reads
the row after the lock, SQLite lets one writer at a time in).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from hotline.db.audit import AuditEntry
from voicemail.callbacks.models import Callback
from voicemail.errors import OverrideError
from voicemail.models import STATE_NEEDS_REVIEW, Voicemail
from voicemail.override import AUDIT_DECIDE, Decision, override_verdict

ROUNDS = 4


def test_two_screeners_never_decide_one_message_twice(database_url: str) -> None:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    sessions = make_session_factory(engine)
    try:
        for round_ in range(ROUNDS):
            with session_scope(sessions) as session:
                row = Voicemail(recording_id=f"race-{round_}", caller_num="13812345678",
                                call_time=datetime(2026, 12, 2, 22, round_, tzinfo=UTC),
                                state=STATE_NEEDS_REVIEW, version=3)
                session.add(row)
                session.flush()
                voicemail_id = row.id
            start = threading.Barrier(2)
            outcomes: dict[str, str] = {}

            def screen(actor: str, verdict: str, voicemail_id: int = voicemail_id,
                       start: threading.Barrier = start, outcomes: dict[str, str] = outcomes) -> None:
                start.wait()
                try:
                    with session_scope(sessions) as session:
                        override_verdict(session, voicemail_id, verdict, "听过录音", actor=actor,
                                         role="operator",
                                         decision=Decision(verdict, "听过录音", expected_version=3))
                    outcomes[actor] = "decided"
                except OverrideError as exc:
                    outcomes[actor] = exc.code

            threads = [threading.Thread(target=screen, args=("甲", "valid")),
                       threading.Thread(target=screen, args=("乙", "invalid"))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert sorted(outcomes.values()) == ["decided", "version_conflict"], outcomes
            winner = next(actor for actor, outcome in outcomes.items() if outcome == "decided")
            with sessions() as session:
                row = session.get(Voicemail, voicemail_id)
                assert row is not None and row.version == 4 and row.override_by == winner
                audits = session.scalars(select(AuditEntry).where(
                    AuditEntry.action == AUDIT_DECIDE,
                    AuditEntry.target == f"voicemail:{voicemail_id}")).all()
                assert [a.actor for a in audits] == [winner]
                callbacks = session.scalar(select(func.count()).select_from(Callback)
                                           .where(Callback.voicemail_id == voicemail_id))
                assert callbacks == (1 if row.state == "valid" else 0)
    finally:
        engine.dispose()

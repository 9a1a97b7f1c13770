"""Work shared by several nodes on one PostgreSQL: every item handled by exactly one of them.

Two "nodes" here are two engines (two connection pools) driven from two threads at once, the
way two `hotline serve` processes reach the store; tests/cluster/test_nodes_live.py does the
same with real processes.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hotline.config import HotlineConfig, load_config
from hotline.config.secrets import write_demo_secrets
from hotline.db import make_engine, make_session_factory, session_scope, upgrade_database
from hotline.db.claims import item_claim
from tests.hall_pbx import REPO, write_overrides
from tests.voicemail.test_ingest import put_message
from tests.voicemail.wavs import write_tone
from voicemail.callbacks import service as callbacks
from voicemail.callbacks.errors import Conflict
from voicemail.callbacks.models import Callback
from voicemail.callbacks.service import Actor
from voicemail.ingest import IngestSettings, ingest_spool
from voicemail.models import STATE_NEW, STATE_VALID, Voicemail
from voicemail.triage_service import triage_pending

pytestmark = pytest.mark.postgres
NIGHT = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
MESSAGES = 30


def two_nodes(url: str) -> Iterator[list[sessionmaker[Session]]]:
    upgrade_database(url)
    engines = [make_engine(url), make_engine(url)]
    yield [make_session_factory(engine) for engine in engines]
    for engine in engines:
        engine.dispose()


@pytest.fixture
def nodes(postgres_url: str) -> Iterator[list[sessionmaker[Session]]]:
    """Several nodes share PostgreSQL only (on SQLite there is one node)."""
    yield from two_nodes(postgres_url)


def at_once(*work: Callable[[], Any]) -> list[Any]:
    """Run each callable on its own thread, released together; their results in order."""
    start = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = work[index]()
        except BaseException as exc:  # handed to the test below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def test_an_item_claim_is_held_by_one_process_at_a_time(postgres_url: str) -> None:
    first, second = two_nodes(postgres_url).__next__()
    with item_claim(first, "spool", "r1") as mine:
        assert mine
        with item_claim(second, "spool", "r1") as theirs, item_claim(second, "spool", "r2") as other:
            assert not theirs and other
    with item_claim(second, "spool", "r1") as now_free:
        assert now_free


def test_two_nodes_ingest_one_spool_each_message_once(tmp_path: Path,
                                                      nodes: list[sessionmaker[Session]]) -> None:
    settings = IngestSettings(spool=tmp_path / "spool", archive=tmp_path / "archive", max_message_s=120)
    for n in range(MESSAGES):
        put_message(settings.spool, f"1795813129-{n}", seconds=0.5)
    reports = at_once(*(lambda s=s: ingest_spool(settings, s) for s in nodes))
    registered = [rid for report in reports for rid in report.registered]
    assert sorted(registered) == sorted(f"1795813129-{n}" for n in range(MESSAGES))
    assert not any(report.failed for report in reports)
    with nodes[0]() as session:
        assert session.scalar(select(func.count()).select_from(Voicemail)) == MESSAGES
    assert list(settings.spool.iterdir()) == []


def hall_config(tmp_path: Path, url: str) -> HotlineConfig:
    hall = tmp_path / "hall"
    hall.mkdir()
    for name in ("hotline.conf", "remit.conf"):
        shutil.copy(REPO / name, hall / name)
    write_demo_secrets(hall / "hotline.conf")
    write_overrides(hall / "hotline.conf", {"database.url": url,
                                            "voicemail.archive": str(tmp_path / "archive")})
    return load_config(hall / "hotline.conf")


def test_two_nodes_triage_each_message_once(tmp_path: Path, postgres_url: str,
                                            nodes: list[sessionmaker[Session]]) -> None:
    config = hall_config(tmp_path, postgres_url)
    config.voicemail.archive.mkdir(parents=True)
    write_tone(config.voicemail.archive / "tone.wav", 2.0)
    with session_scope(nodes[0]) as session:
        session.add_all(Voicemail(recording_id=f"rec-{n}", caller_num=f"1381234{n:04d}",
                                  call_time=NIGHT + timedelta(minutes=n), archive_name="tone.wav",
                                  state=STATE_NEW) for n in range(MESSAGES))
    reports = at_once(*(lambda s=s, n=n: triage_pending(s, config, None, node=f"node-{n}")
                        for n, s in enumerate(nodes)))
    triaged = [vid for report in reports for vid in report.triaged]
    assert len(triaged) == len(set(triaged)) == MESSAGES
    with nodes[0]() as session:
        rows = session.scalars(select(Voicemail)).all()
    assert all(row.state != STATE_NEW and row.triage_attempts == 1 for row in rows)
    assert {row.claimed_by for row in rows} <= {"node-0", "node-1"}
    for report, n in zip(reports, range(2), strict=True):
        assert sorted(report.triaged) == sorted(r.id for r in rows if r.claimed_by == f"node-{n}")


def test_a_message_claimed_by_a_live_node_waits_for_its_claim_to_expire(
        tmp_path: Path, postgres_url: str, nodes: list[sessionmaker[Session]]) -> None:
    config = hall_config(tmp_path, postgres_url)
    with session_scope(nodes[0]) as session:
        session.add(Voicemail(recording_id="rec-held", state=STATE_NEW, claimed_by="node-x",
                              claimed_until=datetime.now(UTC) + timedelta(minutes=5)))
        session.add(Voicemail(recording_id="rec-stale", state=STATE_NEW, claimed_by="node-x",
                              claimed_until=datetime.now(UTC) - timedelta(seconds=1)))
    report = triage_pending(nodes[1], config, None, node="node-y")
    with nodes[1]() as session:
        by_id = {r.recording_id: r for r in session.scalars(select(Voicemail))}
    assert report.triaged == [by_id["rec-stale"].id]
    assert by_id["rec-held"].state == STATE_NEW and by_id["rec-held"].triage_attempts == 0
    assert by_id["rec-stale"].claimed_by == "node-y"


def test_two_nodes_claiming_one_callback_one_wins(tmp_path: Path, postgres_url: str,
                                                  nodes: list[sessionmaker[Session]]) -> None:
    with session_scope(nodes[0]) as session:
        voicemail = Voicemail(recording_id="rec-cb", caller_num="13812345678", state=STATE_VALID)
        session.add(voicemail)
        session.flush()
        callback_id = callbacks.enqueue_callback(session, voicemail.id, priority="urgent",
                                                 department="供水集团", number="13812345678").id
    settings = hall_config(tmp_path, postgres_url).callbacks
    now = datetime.now(UTC) + timedelta(seconds=1)

    def claim(sessions: sessionmaker[Session], name: str) -> str:
        try:
            with session_scope(sessions) as session:
                callbacks.claim(session, callback_id, Actor(name, "operator"), now, settings)
            return "won"
        except Conflict:
            return "lost"

    for _ in range(3):
        outcomes = at_once(lambda: claim(nodes[0], "甲"), lambda: claim(nodes[1], "乙"))
        assert sorted(outcomes) == ["lost", "won"]
        with session_scope(nodes[0]) as session:
            holder = session.get(Callback, callback_id)
            callbacks.release(session, callback_id, Actor(holder.claimed_by, "operator"), now)


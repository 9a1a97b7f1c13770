"""Two and three real `hotline serve` nodes on one PostgreSQL, with the sandbox PBX and real
phones: the bridge node killed during calls, an event crossing nodes, triage shared by two nodes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL

from hotline.auth import Role
from hotline.db import make_engine, make_session_factory
from telephony.ami import AmiClient
from telephony.models import OUTCOME_ANSWERED, CallRecord
from tests.cluster.nodes import (
    all_triaged,
    api,
    cluster_schema,
    holder_among,
    node_name,
    spool_messages,
    start_cluster,
    triage_ready,
)
from tests.hall_pbx import HallPbx, instance_name, start_hall_pbx
from tests.integration.harness import (
    assert_agrees_with_asterisk,
    call_hotline,
    citizen_channels,
    enqueue_callback_row,
    harness_client,
    seat_phone,
    wait_for,
)
from tests.integration.live_service import SHORT_PROMPTS, EventStream
from tests.service_process import ServiceProcess
from voicemail.models import Voicemail
from voicemail.transcribe import default_test_model_path

pytestmark = [pytest.mark.pbx, pytest.mark.postgres]
TAKEOVER_S = 10.0
ENTRY_S = 40.0
TRIAGE_MESSAGES = 60
TRIAGE_WAIT_S = 240.0
PREFIX = "1795900000"
CALLERS = ("13900000001", "13900000002")


@pytest.fixture(scope="module")
def cluster_url(postgres_database: URL) -> Iterator[str]:
    with cluster_schema(postgres_database) as url:
        yield url


@pytest.fixture(scope="module")
def cluster_pbx(tmp_path_factory: pytest.TempPathFactory, cluster_url: str) -> Iterator[HallPbx]:
    pbx = start_hall_pbx(instance_name("cluster"), tmp_path_factory.mktemp("cluster"),
                         {**SHORT_PROMPTS, "database.url": cluster_url, "queue.wrapup_seconds": "2",
                          "vosk.model": str(default_test_model_path())})
    try:
        yield pbx
    finally:
        pbx.stop()


@dataclass
class Cluster:
    pbx: HallPbx
    nodes: list[ServiceProcess]
    ami: AmiClient
    work: Path

    def node(self, name: str) -> ServiceProcess:
        return next(n for n in self.nodes if node_name(n) == name)

    def others(self, name: str) -> list[ServiceProcess]:
        return [n for n in self.nodes if node_name(n) != name]


@pytest.fixture
async def cluster(cluster_pbx: HallPbx, tmp_path: Path, request: pytest.FixtureRequest
                  ) -> AsyncIterator[Cluster]:
    cluster_pbx.reset()
    count = getattr(request, "param", 3)
    ami = await harness_client(cluster_pbx.config)
    nodes: list[ServiceProcess] = []
    try:
        await start_cluster(cluster_pbx, count, str(tmp_path), nodes)
        yield Cluster(cluster_pbx, nodes, ami, tmp_path)
    finally:
        for node in nodes:
            node.stop()
        await ami.stop()
        cluster_pbx.reset()


def answered_calls(url: str) -> list[tuple[str, str | None]]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return [(r.call_key, r.citizen_number) for r in session.scalars(
                select(CallRecord).where(CallRecord.outcome == OUTCOME_ANSWERED,
                                         CallRecord.citizen_number.in_(CALLERS)))]
    finally:
        engine.dispose()


async def hang_up(ami: AmiClient, number: str) -> None:
    for channel in await citizen_channels(ami, number):
        await ami.send_action("Hangup", Channel=channel)


async def test_the_bridge_node_killed_during_calls_is_replaced(cluster: Cluster) -> None:
    config, url = cluster.pbx.config, cluster.pbx.config.database.url
    holder = await wait_for(lambda: holder_among(cluster.nodes), 15, "one bridge holder")
    reader = api(cluster.others(holder)[0])  # a node without the bridge serves the picture too
    async with (seat_phone(config, "01", cluster.work / "phones", auto_answer=True),
                seat_phone(config, "02", cluster.work / "phones", auto_answer=True)):
        for seat in ("01", "02"):
            await reader.wait_state(seat, "logged_out")
            assert (await reader.post(f"/api/seats/{seat}/login")).status_code == 200
        for number in CALLERS:
            await call_hotline(cluster.ami, config, number)
        for seat in ("01", "02"):
            await reader.wait_state(seat, "on_call", timeout=ENTRY_S)
        await assert_agrees_with_asterisk(reader, cluster.ami, config)

        killed = time.monotonic()
        cluster.node(holder).stop(kill=True)
        await hang_up(cluster.ami, CALLERS[0])  # ends while no node may hold the bridge
        survivors = cluster.others(holder)
        new_holder = await wait_for(lambda: holder_among(survivors), TAKEOVER_S + 5, "a new holder")
        took = time.monotonic() - killed
        assert took <= TAKEOVER_S, f"the bridge was taken over after {took:.1f} s"
        assert new_holder != holder
        await hang_up(cluster.ami, CALLERS[1])  # ends under the new holder
        for node in survivors:
            await assert_agrees_with_asterisk(api(node), cluster.ami, config)

    async def both_recorded() -> list[tuple[str, str | None]] | None:
        rows = answered_calls(url)
        return rows if {number for _key, number in rows} == set(CALLERS) else None

    await wait_for(both_recorded, 20, "both calls recorded")
    await asyncio.sleep(3)  # the recorder's flush and the queue_log books have had their turn
    rows = answered_calls(url)
    assert sorted(number for _key, number in rows) == sorted(CALLERS), rows  # none lost, none twice
    assert len({key for key, _number in rows}) == len(rows)


@pytest.mark.parametrize("cluster", [2], indirect=True)
async def test_an_event_published_on_one_node_reaches_a_stream_on_another(cluster: Cluster) -> None:
    one, other = cluster.nodes
    callback_id = enqueue_callback_row(cluster.pbx.config.database.url, "13911112222", "cross")
    async with EventStream(other.base_url, other.tokens[Role.OPERATOR]) as stream:
        sent = time.monotonic()
        claimed = await api(one).post(f"/api/callbacks/{callback_id}/claim")
        assert claimed.status_code == 200, claimed.text
        await stream.wait("callbacks", after=sent)
    # Two operators on two nodes claim one callback at the same moment: one gets it.
    contested = enqueue_callback_row(cluster.pbx.config.database.url, "13911113333", "race")
    answers = await asyncio.gather(*(api(node).post(f"/api/callbacks/{contested}/claim")
                                     for node in (one, other)))
    assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]


@pytest.mark.parametrize("cluster", [2], indirect=True)
async def test_two_nodes_triage_sixty_messages_each_exactly_once(cluster: Cluster) -> None:
    await wait_for(lambda: triage_ready(cluster.nodes), 60, "both nodes' triage ready")
    spool = cluster.pbx.config.voicemail.spool
    spool_messages(cluster.pbx, PREFIX, TRIAGE_MESSAGES)
    # Every node's ingestion sweeps the shared spool (at the latest after SWEEP_SECONDS); the node
    # that registers messages says so on the cross-node feed, which wakes the other's triage.
    url = cluster.pbx.config.database.url

    async def done() -> list[Voicemail] | None:
        return all_triaged(url, PREFIX, TRIAGE_MESSAGES)

    rows = await wait_for(done, TRIAGE_WAIT_S, "60 messages triaged")
    assert len({r.recording_id for r in rows}) == TRIAGE_MESSAGES
    assert all(r.triage_attempts == 1 for r in rows), {r.recording_id: r.triage_attempts for r in rows}
    used = {r.claimed_by for r in rows}
    assert used == {"node-0", "node-1"}, used  # the work spread over both nodes
    assert list(spool.glob(f"{PREFIX}-*")) == []



"""Several `hotline serve` nodes on one PostgreSQL, with 1, 2 and 3 nodes on this machine: how
fast the bridge is taken over, how fast a change reaches another node's event stream, and
whether shared triage handles each message exactly once and spreads over the nodes.

Run by hand (about 6 minutes; needs the sandbox PBX root and the PostgreSQL `./run test` uses):

    .venv/bin/python bench/cluster.py [--events 50] [--messages 60]

Everything is real: one sandbox Asterisk, a fresh PostgreSQL schema per node count, `hotline
serve` processes (tests/cluster/nodes.py starts them as the cluster tests do). For each count:

- triage: --messages voicemails put into the shared spool; the time from the first one
  registered to the last one triaged (store times), whether each was triaged exactly once
  (one attempt each, one row each) and how many nodes did the work;
- events: --events callback claims and releases made one at a time through node 0's API, each
  timed from the request until its frame arrives on an `/api/events` stream opened on the last
  node (with one node, the same node: the baseline);
- failover: the bridge holder is SIGKILLed; the time until another node holds the bridge (every
  node's /api/health agreeing). With one node there is no other: the baseline is the node
  restarted at once (what systemd's Restart= does) holding the bridge again.

Every figure is also printed as a ratio to the one-node run. The last line is exactly

    failover_s=F events_cross_node_p99_ms=P triage_exactly_once=yes|no triage_nodes_used=N

from the largest cluster (failover_s and the p99 from 2 nodes up; exactly once over all runs).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from hotline.auth import Role  # noqa: E402
from hotline.config import load_config  # noqa: E402
from hotline.config.ini import write_overrides  # noqa: E402
from tests.cluster.nodes import (  # noqa: E402
    all_triaged,
    api,
    cluster_schema,
    holder_among,
    node_name,
    spool_messages,
    start_cluster,
    triage_ready,
)
from tests.hall_pbx import HallPbx, instance_name, start_hall_pbx  # noqa: E402
from tests.integration.harness import enqueue_callback_row, wait_for  # noqa: E402
from tests.integration.live_service import SHORT_PROMPTS, EventStream  # noqa: E402
from tests.service_process import ServiceProcess  # noqa: E402
from voicemail.transcribe import default_test_model_path  # noqa: E402

PG_URL: Final = os.environ.get("HOTLINE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
COUNTS: Final = (1, 2, 3)
TAKEOVER_WAIT_S: Final = 60.0
TRIAGE_WAIT_S: Final = 300.0


@dataclass
class Run:
    nodes: int
    triage_s: float
    exactly_once: bool
    nodes_used: int
    events_p50_ms: float
    events_p99_ms: float
    failover_s: float


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def triage(pbx: HallPbx, nodes: list[ServiceProcess], messages: int,
                 tag: str) -> tuple[float, bool, int]:
    await wait_for(lambda: triage_ready(nodes), 120, "triage ready on every node")
    prefix = f"17959{tag}"
    spool_messages(pbx, prefix, messages)
    url = pbx.config.database.url

    async def done() -> object:
        return all_triaged(url, prefix, messages)

    rows = await wait_for(done, TRIAGE_WAIT_S, "every message triaged")
    span = (max(r.triaged_at for r in rows) - min(r.registered_at for r in rows)).total_seconds()
    once = len({r.recording_id for r in rows}) == messages and all(r.triage_attempts == 1 for r in rows)
    return span, once, len({r.claimed_by for r in rows})


async def events(pbx: HallPbx, nodes: list[ServiceProcess], count: int) -> list[float]:
    """Milliseconds from a change made on node 0 to its frame on the last node's stream."""
    source, reader = api(nodes[0]), nodes[-1]
    callback_id = enqueue_callback_row(pbx.config.database.url, "13911112222", f"bench{len(nodes)}")
    delays: list[float] = []
    async with EventStream(reader.base_url, reader.tokens[Role.OPERATOR]) as stream:
        for n in range(count):
            action = "claim" if n % 2 == 0 else "release"
            sent = time.monotonic()
            response = await source.post(f"/api/callbacks/{callback_id}/{action}")
            assert response.status_code == 200, response.text
            frame = await stream.wait("callbacks", after=sent)
            delays.append((frame.received - sent) * 1000)
    return delays


async def failover(nodes: list[ServiceProcess]) -> float:
    holder = await wait_for(lambda: holder_among(nodes), TAKEOVER_WAIT_S, "a bridge holder")
    victim = next(n for n in nodes if node_name(n) == holder)
    killed = time.monotonic()
    victim.stop(kill=True)
    if len(nodes) == 1:  # the baseline: restarted at once, as systemd would
        await victim.start()
        survivors = nodes
    else:
        survivors = [n for n in nodes if n is not victim]
    await wait_for(lambda: holder_among(survivors), TAKEOVER_WAIT_S, "the bridge taken over")
    return time.monotonic() - killed


def use_database(pbx: HallPbx, url: str) -> None:
    write_overrides(pbx.workdir / "hotline.conf", {"database.url": url})
    pbx.config = load_config(pbx.workdir / "hotline.conf")


async def one_count(pbx: HallPbx, count: int, work: Path, args: argparse.Namespace) -> Run:
    database = make_url(PG_URL).set(database=f"hotline_bench_{os.getpid()}_{count}")
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database.database}"'))
    nodes: list[ServiceProcess] = []
    try:
        with cluster_schema(database) as url:
            use_database(pbx, url)
            logs = work / f"nodes{count}"
            logs.mkdir()
            await start_cluster(pbx, count, str(logs), nodes)
            span, once, used = await triage(pbx, nodes, args.messages, str(count))
            delays = await events(pbx, nodes, args.events)
            took = await failover(nodes)
            for node in nodes:
                node.stop()
            return Run(count, span, once, used, statistics.median(delays), p99(delays), took)
    finally:
        for node in nodes:
            node.stop()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database.database}" WITH (FORCE)'))
        admin.dispose()


def report(runs: list[Run]) -> None:
    base = runs[0]
    print(f"{'nodes':>5} {'triage_s':>9} {'×1':>6} {'once':>5} {'used':>4} {'ev_p50_ms':>9} "
          f"{'ev_p99_ms':>9} {'×1':>6} {'failover_s':>10} {'×1':>6}")
    for r in runs:
        print(f"{r.nodes:>5} {r.triage_s:>9.1f} {r.triage_s / base.triage_s:>6.2f} "
              f"{'yes' if r.exactly_once else 'no':>5} {r.nodes_used:>4} {r.events_p50_ms:>9.1f} "
              f"{r.events_p99_ms:>9.1f} {r.events_p99_ms / base.events_p99_ms:>6.2f} "
              f"{r.failover_s:>10.2f} {r.failover_s / base.failover_s:>6.2f}")
    print("(1 node: events on the node's own stream; failover = a restarted node taking its bridge back)")
    last = runs[-1]
    once = all(r.exactly_once for r in runs)
    print(f"failover_s={last.failover_s:.2f} events_cross_node_p99_ms={last.events_p99_ms:.1f} "
          f"triage_exactly_once={'yes' if once else 'no'} triage_nodes_used={last.nodes_used}")


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="hotline-cluster-bench-"))
    pbx = start_hall_pbx(instance_name("bench-cluster"), work / "pbx",
                         {**SHORT_PROMPTS, "vosk.model": str(default_test_model_path())})
    try:
        runs = []
        for count in COUNTS:
            print(f"-- {count} node(s)", flush=True)
            runs.append(await one_count(pbx, count, work, args))
        report(runs)
    finally:
        pbx.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=50)
    parser.add_argument("--messages", type=int, default=60)
    asyncio.run(main(parser.parse_args()))

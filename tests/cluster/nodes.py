"""Several real `hotline serve` nodes on one PostgreSQL and one sandbox PBX: shared by the
cluster tests (tests/cluster/test_nodes_live.py) and the benchmark (bench/cluster.py)."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

import httpx
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import URL

from hotline.auth import Role
from hotline.db import make_engine, make_session_factory
from hotline.phones.baresip import free_port
from tests.hall_pbx import HallPbx
from tests.integration.harness import Api
from tests.service_process import ServiceProcess
from tests.voicemail.test_ingest import put_message
from voicemail.models import STATE_NEW, Voicemail

NODE_START_S = 60.0  # three nodes each loading a speech model on a shared two-core machine


@contextlib.contextmanager
def cluster_schema(database: URL) -> Iterator[str]:
    """A fresh schema of `database` for one cluster; the URL its nodes use. Dropped after."""
    schema = f"cluster_{secrets.token_hex(4)}"
    admin = create_engine(database, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield database.update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def node_name(node: ServiceProcess) -> str:
    return node.extra_args[node.extra_args.index("--node-id") + 1]


def api(node: ServiceProcess, role: Role = Role.OPERATOR) -> Api:
    return Api(node.base_url, node.headers(role))


def new_node(pbx: HallPbx, index: int, logs: str, tokens: dict[Role, str]) -> ServiceProcess:
    """One more `hotline serve` on the same hotline.conf, on a port and under a name of its own."""
    from pathlib import Path

    node = ServiceProcess(pbx.config, Path(logs) / f"node-{index}.log")
    port = free_port()
    node.extra_args = ["--port", str(port), "--node-id", f"node-{index}"]
    node.base_url = f"http://{pbx.config.api.bind}:{port}"
    node.tokens = tokens
    node.start_timeout = NODE_START_S
    return node


async def start_cluster(pbx: HallPbx, count: int, logs: str,
                        started: list[ServiceProcess] | None = None) -> list[ServiceProcess]:
    """`count` nodes, started one after the other; node-0 makes the tokens (and migrates).
    Each is added to `started` before it starts, so the caller can stop it whatever happens."""
    started = [] if started is None else started
    first = new_node(pbx, 0, logs, {})
    first.make_tokens()
    for node in [first, *(new_node(pbx, i, logs, first.tokens) for i in range(1, count))]:
        started.append(node)
        await node.start()
    return started


async def holder_among(nodes: list[ServiceProcess]) -> str | None:
    """The node that says it holds the PBX's bridge, when every other node agrees."""
    said: set[str | None] = set()
    holders = []
    async with httpx.AsyncClient(timeout=2.0) as client:
        for node in nodes:
            try:
                health = (await client.get(f"{node.base_url}/api/health", headers=node.headers())).json()
            except httpx.HTTPError:
                return None
            bridge = health["bridges"][0]
            said.add(bridge["node"])
            if bridge["this_node"]:
                holders.append(health["node"])
    return holders[0] if len(holders) == 1 and said == {holders[0]} else None


async def triage_ready(nodes: list[ServiceProcess]) -> bool:
    async with httpx.AsyncClient(timeout=2.0) as client:
        states = [(await client.get(f"{n.base_url}/api/health", headers=n.headers())).json()["triage"]
                  for n in nodes]
    return all(state and state["state"] == "ready" for state in states)


def spool_messages(pbx: HallPbx, prefix: str, count: int) -> None:
    for n in range(count):
        put_message(pbx.config.voicemail.spool, f"{prefix}-{n}", seconds=1.0, number=f"1380000{n:04d}")


def messages(url: str, prefix: str) -> list[Voicemail]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(Voicemail).where(Voicemail.recording_id.like(f"{prefix}-%"))))
    finally:
        engine.dispose()


def all_triaged(url: str, prefix: str, count: int) -> list[Voicemail] | None:
    rows = messages(url, prefix)
    return rows if len(rows) == count and all(r.state != STATE_NEW for r in rows) else None

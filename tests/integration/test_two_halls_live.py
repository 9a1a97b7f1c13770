"""Two PBXs (two halls) bridged by one `hotline serve`: two sandbox Asterisks, a real phone on each.

Seats of both halls appear with their hall and the right states; a call on each hall is answered,
shown in that hall's part of /api/status and recorded with its hall (its recording taken from that
PBX's own spool); /api/health shows every spool's workers; the reports split by hall.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.auth import Role
from hotline.db import make_engine, make_session_factory
from hotline.phones.audio import duration
from quality.models import CallRecording
from telephony.ami import AmiClient
from telephony.models import CallRecord
from tests.hall_pbx import instance_name
from tests.integration.harness import Api, call_hotline, harness_client, seat_phone, wait_for
from tests.service_process import ServiceProcess
from tests.two_halls_pbx import WEST, TwoHalls, two_halls

pytestmark = pytest.mark.pbx
ENTRY_S = 40  # greeting and the 工号 prompt come before the queue
MAIN_SEAT, WEST_SEAT = "05", "61"
TALK_S = 2.0
REGISTERED_WITHIN_S = 60


@pytest.fixture(scope="module")
def halls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoHalls]:
    with two_halls(instance_name("halls"), tmp_path_factory.mktemp("halls"),
                   {"queue.wrapup_seconds": "1"}) as running:
        yield running


@dataclass
class Env:
    halls: TwoHalls
    api: Api
    ami: dict[str, AmiClient]
    work: Path


@pytest.fixture
async def env(halls: TwoHalls, tmp_path: Path) -> AsyncIterator[Env]:
    service = ServiceProcess(halls.config, tmp_path / "serve.log")
    ami = {"main": await harness_client(halls.of("main")), WEST: await harness_client(halls.of(WEST))}
    try:
        await service.start()
        yield Env(halls, Api(service.base_url, service.headers(Role.OPERATOR)), ami, tmp_path)
    finally:
        service.stop()
        for client in ami.values():
            await client.stop()


def stored_calls(database_url: str) -> list[CallRecord]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(CallRecord)))
    finally:
        engine.dispose()


def recordings(database_url: str) -> list[tuple[str | None, str | None]]:
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            return [(r.seat_id, r.linkedid) for r in session.scalars(select(CallRecording))]
    finally:
        engine.dispose()


async def answer_on(env: Env, pbx: str, seat_id: str, number: str) -> None:
    """A citizen calls hall `pbx`; the seat's phone there answers; the call ends after a second."""
    phone = seat_phone(env.halls.of(pbx), seat_id, env.work / f"phones-{pbx}", auto_answer=True)
    async with phone:
        await env.api.wait_state(seat_id, "logged_out")
        login = await env.api.post(f"/api/seats/{seat_id}/login")
        assert login.status_code == 200, login.text
        assert login.json()["seat"]["hall"] == pbx
        await call_hotline(env.ami[pbx], env.halls.of(pbx), number)
        on_call = await env.api.wait_state(seat_id, "on_call", timeout=ENTRY_S)
        assert on_call["call"]["citizen_number"] == number
        status = await env.api.get("/api/status")
        part = next(h for h in status["halls"] if h["name"] == pbx)
        assert part["seats"]["by_state"]["on_call"] == 1 and part["calls"]["in_progress"] >= 1
        assert status["seats"]["by_state"]["on_call"] == sum(
            h["seats"]["by_state"]["on_call"] for h in status["halls"])
        calls = await env.api.get("/api/calls")
        assert any(c["hall"] == pbx and c["citizen_number"] == number for c in calls["calls"])
        # The caller hears the 工号 first; the recording starts when they talk.
        sandbox = env.halls.main if pbx == "main" else env.halls.west
        await asyncio.sleep(duration(sandbox.rendered_dir / "sounds" / "hotline" / f"operator-{seat_id}.wav")
                            + TALK_S)
        await phone.hangup()
        await env.api.wait_state(seat_id, "available", timeout=10)


async def test_one_service_bridges_both_halls(env: Env) -> None:
    seats = await env.api.get("/api/seats")
    assert len(seats) == 52
    assert {s["hall"] for s in seats if s["seat_id"] in ("61", "62")} == {WEST}
    assert {s["hall"] for s in seats if s["seat_id"] not in ("61", "62")} == {"main"}
    assert next(s for s in seats if s["seat_id"] == WEST_SEAT)["hall_name"] == "城西大厅"
    assert {s["state"] for s in seats} == {"offline"}
    status = await env.api.get("/api/status")
    assert [(h["name"], h["ami"]["connected"], h["seats"]["total"]) for h in status["halls"]] == [
        ("main", True, 50), (WEST, True, 2)]
    assert status["seats"]["total"] == 52 and status["ami"]["connected"] is True
    # One bridge lease per PBX, both held by this (single) node.
    assert [(b["pbx"], b["this_node"]) for b in status["ami"]["bridges"]] == [("main", True), (WEST, True)]
    # Each PBX's own spools: a voicemail and a recording worker each, all four in /api/health.
    spools = {(s["worker"], s["folder"]) for s in (await env.api.get("/api/health"))["spools"]}
    assert spools == {(worker, str(folder)) for pbx in ("main", WEST) for worker, folder in (
        ("voicemail-ingest", env.halls.of(pbx).voicemail.spool),
        ("call-recordings", env.halls.of(pbx).recording.spool))}
    assert len(spools) == 4

    await answer_on(env, "main", MAIN_SEAT, "13911110001")
    await answer_on(env, WEST, WEST_SEAT, "13922220002")

    async def recorded() -> list[CallRecord]:
        rows = [r for r in stored_calls(env.halls.config.database.url) if r.outcome == "answered"]
        return rows if len(rows) >= 2 else []

    rows = await wait_for(recorded, 10, "both calls to be recorded")
    assert {(r.seat_id, r.pbx) for r in rows} == {(MAIN_SEAT, "main"), (WEST_SEAT, WEST)}
    west_row = next(r for r in rows if r.pbx == WEST)
    assert west_row.call_key.startswith(f"{WEST}:")

    async def registered() -> list[tuple[str | None, str | None]]:
        found = recordings(env.halls.config.database.url)
        return found if {MAIN_SEAT, WEST_SEAT} <= {seat for seat, _ in found} else []

    # Each PBX writes the two tracks into its own spool; the service registers both.
    await wait_for(registered, REGISTERED_WITHIN_S, "both calls' recordings to be registered")

    today = await env.api.get("/api/stats/today")
    assert today["answered"] >= 2
    only_west = await env.api.get(f"/api/stats/today/{WEST}")
    assert only_west["answered"] == 1 and [s["seat_id"] for s in only_west["seats"]] == ["61"]

    stats = await env.api.get("/api/stats")
    by_hall = {h["name"]: h["answered"] for h in stats["halls"]}
    assert by_hall == {"main": 1, WEST: 1, "": 2}
    west_stats = await env.api.get(f"/api/stats?hall={WEST}")
    assert west_stats["totals"]["answered"] == 1 and west_stats["hall"] == WEST

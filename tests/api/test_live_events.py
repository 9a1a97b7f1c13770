"""The live feed and `/api/events`: backlog, coalescing, per-role rendering over a real HTTP server."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from hotline.api import create_app
from hotline.auth import Role, add_token
from hotline.auth.principal import Principal
from hotline.config import HotlineConfig
from hotline.db import make_engine, make_session_factory, session_scope
from hotline.live import KIND_RESYNC, LiveFeed
from hotline.wiring import attach_bridge
from seat_manager.directory import Seat
from telephony.ami import AmiClient, AmiSettings
from telephony.ami.message import Message
from telephony.hall import Hall
from telephony.hall_feed import attach_hall
from tests.live_server import LiveServer

MONITOR = Principal("wall", Role.MONITOR)
STREAM_WAIT_S = 5.0


# The feed alone -----------------------------------------------------------------------------
async def test_markers_coalesce_and_seat_events_keep_order() -> None:
    feed = LiveFeed()
    sub = feed.subscribe()
    for kind, payload in [("seat", 1), ("queue", None), ("queue", None), ("seat", 2), ("calls", None)]:
        feed.publish(kind, payload)
    got = []
    while (event := await sub.next_event(0.01)) is not None:
        got.append((event.kind, event.payload))
    assert got == [("seat", 1), ("queue", None), ("seat", 2), ("calls", None)]
    feed.publish("queue")  # the pending copy was sent: a new one is queued again
    assert (await sub.next_event(0.01)).kind == "queue"


async def test_each_change_is_rendered_once_per_principal_however_many_streams_send_it() -> None:
    feed = LiveFeed()
    picture = {"calls": 3}
    feed.add_renderer("calls", lambda _payload, _principal: dict(picture))
    feed.add_renderer("seat", lambda payload, principal: {"seat": payload, "for": principal.name})
    operator = Principal("ops", Role.OPERATOR)
    subs = [feed.subscribe() for _ in range(10)]

    def encode(kind: str, data: dict) -> bytes:
        return json.dumps({"kind": kind, **data}).encode()

    async def sent(sub, principal: Principal) -> list[bytes | None]:
        frames = []
        while (event := await sub.next_event(0.01)) is not None:
            frames.append(feed.frame(event, principal, encode))
        return frames

    feed.publish("seat", "07")
    feed.publish("calls")
    first = [await sent(sub, MONITOR if i % 2 else operator) for i, sub in enumerate(subs)]
    assert feed.renders == 4  # 2 events x 2 principals, not 2 x 10 streams
    assert first[1] == [b'{"kind": "seat", "seat": "07", "for": "wall"}', b'{"kind": "calls", "calls": 3}']
    assert first[0][0] == b'{"kind": "seat", "seat": "07", "for": "ops"}'

    # A marker goes out with the picture as it stands after its newest event: a stream that
    # sends it late (its marker pending while the next one came) gets the newer picture.
    feed.publish("calls")
    assert await sent(subs[0], MONITOR) == [b'{"kind": "calls", "calls": 3}']
    picture["calls"] = 4
    feed.publish("calls")  # coalesced into the marker the other streams still hold
    assert {tuple(await sent(sub, MONITOR)) for sub in subs} == {(b'{"kind": "calls", "calls": 4}',)}


async def test_a_subscriber_that_falls_behind_gets_one_resync_instead_of_the_backlog() -> None:
    feed = LiveFeed(backlog=3)
    slow, other = feed.subscribe(), feed.subscribe()
    for n in range(5):
        feed.publish("seat", n)
    kinds = []
    while (event := await slow.next_event(0.01)) is not None:
        kinds.append((event.kind, event.payload))
    # 0-2 filled the backlog; 3 overflowed it: all four give way to one resync.
    assert kinds == [(KIND_RESYNC, None), ("seat", 4)]
    assert slow.dropped == 4
    slow.close()
    other.close()
    assert feed.subscriber_count == 0


async def test_publishing_from_a_worker_thread_reaches_the_loop() -> None:
    feed = LiveFeed()
    sub = feed.subscribe()
    thread = threading.Thread(target=feed.publish, args=("callbacks", {"reason": "changed"}))
    thread.start()
    thread.join()
    event = await sub.next_event(1.0)
    assert event is not None and event.payload == {"reason": "changed"}
    assert feed.render(event, MONITOR) == {"reason": "changed"}


# The stream over HTTP -----------------------------------------------------------------------
def seat_events(seat: Seat) -> list[Message]:
    """A seat logging in, then pausing for lunch, shaped as Asterisk 22 sends them."""
    common = {"Queue": "hotline", "MemberName": seat.member_name, "Interface": seat.interface,
              "StateInterface": seat.state_interface, "Membership": "dynamic", "Penalty": "0",
              "CallsTaken": "0", "LastCall": "0", "LastPause": "0", "LoginTime": "1795813129",
              "InCall": "0", "Status": "1", "Ringinuse": "0", "Wrapuptime": "0"}
    added = {"Event": "QueueMemberAdded", **common, "Paused": "0", "PausedReason": ""}
    paused = {"Event": "QueueMemberPause", **common, "Paused": "1", "PausedReason": "午休"}
    return [Message(list(added.items())), Message(list(paused.items()))]


@pytest.fixture
def hall_app(config: HotlineConfig) -> Iterator[tuple[LiveServer, Hall, dict[Role, str]]]:
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        tokens = {role: add_token(session, f"live-{role.value}", role) for role in Role}
    # An AMI client that is never started: the events below are fed to the monitor directly.
    hall = Hall(config, None, client=AmiClient(AmiSettings(host="127.0.0.1", port=1, username="x",
                                                            secret="y")))
    feed = LiveFeed()
    attach_hall(hall, feed)
    app = create_app(config, ami_status=hall, engine=engine, live=feed)
    attach_bridge(app, hall)
    with LiveServer(app) as server:
        yield server, hall, tokens
    engine.dispose()


async def read_frames(response: httpx.Response) -> AsyncIterator[tuple[str, dict]]:
    kind = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind is not None:
            yield kind, json.loads(line.removeprefix("data: "))
            kind = None


async def test_seat_changes_stream_to_every_open_page_in_order(
        hall_app: tuple[LiveServer, Hall, dict[Role, str]]) -> None:
    server, hall, tokens = hall_app
    member = next(iter(hall.directory))
    headers = {"Authorization": f"Bearer {tokens[Role.MONITOR]}"}
    async with (httpx.AsyncClient(base_url=server.base_url, timeout=STREAM_WAIT_S) as client,
                client.stream("GET", "/api/events", headers=headers) as response):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        frames = read_frames(response)
        kind, hello = await anext(frames)
        assert kind == "hello" and hello["server_time"]
        for message in seat_events(member):
            server.run_in_server_loop(hall.monitor._on_event(message))
        seen: list[dict] = []
        async with asyncio.timeout(STREAM_WAIT_S):
            async for kind, data in frames:
                if kind == "seat":
                    seen.append(data)
                    if data["paused"]:
                        break
    assert all(s["seat_id"] == member.seat_id for s in seen)
    assert seen[-1]["state"] == hall.board.seat(member.seat_id).state.value
    assert seen[-1]["pause_reason"] == "午休"


def test_seats_status_and_health_say_the_picture_is_stale_while_the_link_is_down(
        config: HotlineConfig) -> None:
    """Issue 13: during a cut the seats kept their old picture with no mark. The client here
    never connects: the picture is stale from the start, and says since when."""
    from fastapi.testclient import TestClient

    from hotline.api.routes import status as status_routes
    from seat_manager.api import router as seats_router

    engine = make_engine(config.database.url)
    with session_scope(make_session_factory(engine)) as session:
        token = add_token(session, "stale-wall", Role.MONITOR)
    hall = Hall(config, None, client=AmiClient(AmiSettings(host="127.0.0.1", port=1, username="x",
                                                            secret="y")))
    app = create_app(config, ami_status=hall, engine=engine,
                     extra_routers=[seats_router, status_routes.router])
    attach_bridge(app, hall)
    since = hall.board.stale_since
    assert since is not None
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        seats = client.get("/api/seats").json()
        status = client.get("/api/status").json()
        health = client.get("/api/health").json()
        hall.board.mark_fresh()
        fresh = client.get("/api/seats").json()
    engine.dispose()
    stamp = since.isoformat().replace("+00:00", "Z")
    assert {(s["stale"], s["stale_since"]) for s in seats} == {(True, stamp)}
    assert status["seats"]["stale"] is True and status["seats"]["stale_since"] == stamp
    assert health["status"] == "degraded" and health["ami"]["stale_since"] == stamp
    assert {(s["stale"], s["stale_since"]) for s in fresh} == {(False, None)}


async def test_the_stream_needs_a_token_and_says_so_in_json(
        hall_app: tuple[LiveServer, Hall, dict[Role, str]]) -> None:
    server, _hall, _tokens = hall_app
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.get("/api/events")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_token"


def test_the_stream_is_documented_with_its_kinds(config: HotlineConfig, tmp_path: Path) -> None:
    app = create_app(config)
    operation = app.openapi()["paths"]["/api/events"]["get"]
    assert "text/event-stream" in operation["responses"]["200"]["content"]
    assert "resync" in operation["description"] and "**Roles:**" in operation["description"]


# Changes made through the API are announced -------------------------------------------------
async def test_a_successful_claim_is_announced_and_a_refused_one_is_not(config: HotlineConfig) -> None:
    from fastapi.testclient import TestClient

    from hotline.wiring import build_app
    from tests.voicemail.callback_fixtures import add_valid

    app = build_app(config, bridge=False)
    sessions = app.state.sessionmaker
    with session_scope(sessions) as session:
        token = add_token(session, "morning-07", Role.OPERATOR)
    ids = add_valid(sessions, 1)
    sub = app.state.live.subscribe()
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app, raise_server_exceptions=False) as client:
        refused = await asyncio.to_thread(client.post, "/api/callbacks/999999/claim", headers=headers)
        assert refused.status_code == 404
        assert await sub.next_event(0.3) is None
        claimed = await asyncio.to_thread(client.post, f"/api/callbacks/{ids[0]}/claim", headers=headers)
        assert claimed.status_code == 200, claimed.text
        event = await sub.next_event(STREAM_WAIT_S)
    assert event is not None and event.kind == "callbacks"


async def test_a_revoked_tokens_open_stream_ends_within_seconds(
        config: HotlineConfig, hall_app: tuple[LiveServer, Hall, dict[Role, str]]) -> None:
    from hotline.auth import revoke_token

    server, _hall, tokens = hall_app
    headers = {"Authorization": f"Bearer {tokens[Role.OPERATOR]}"}
    engine = make_engine(config.database.url)
    try:
        async with (httpx.AsyncClient(base_url=server.base_url, timeout=STREAM_WAIT_S) as client,
                    client.stream("GET", "/api/events", headers=headers) as response):
            frames = read_frames(response)
            assert (await anext(frames))[0] == "hello"
            with session_scope(make_session_factory(engine)) as session:
                revoke_token(session, "live-operator")
            # The server ends the stream (a read timeout would mean it kept it open).
            rest = [kind async for kind, _ in frames]
        assert rest == []
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            again = await client.get("/api/events", headers=headers)
        assert again.status_code == 401
    finally:
        engine.dispose()

"""/api/status, /api/events and /metrics of a real `hotline serve` watching the sandbox Asterisk.

One PBX and one service for the module. A citizen calls 12345, waits in the queue while seat 01's
baresip phone rings, and is answered: the summary, the event stream (as an operator and as a
monitor, who sees numbers masked) and the Prometheus figures each say so, and they agree with
Asterisk's own QueueStatus / CoreShowChannels / PJSIPShowContacts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.auth import Role
from hotline.privacy import mask_phone
from telephony.ami import AmiClient
from telephony.monitor import snapshot
from tests.integration.harness import (
    Api,
    assert_agrees_with_asterisk,
    call_hotline,
    harness_client,
    seat_phone,
    wait_for,
)
from tests.integration.live_service import (
    ENTRY_S,
    EventStream,
    LiveService,
    live_service,
    prometheus_samples,
    sample,
    seat_frame,
)

pytestmark = pytest.mark.pbx

SEAT = "01"
MAIN = "main"  # the shipped hotline.conf's one PBX: the `hall` label of its metrics
CITIZEN = "13912345678"
CITIZEN_NAME = "张三丰"
WRAPUP_S = 2
SEAT_STATES = ("offline", "logged_out", "available", "ringing", "on_call", "wrap_up", "paused")
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    with live_service("status", tmp_path_factory.mktemp("status"),
                      {"queue.wrapup_seconds": str(WRAPUP_S)}) as running:
        yield running


@dataclass
class Hall:
    live: LiveService
    ami: AmiClient
    operator: Api
    monitor: Api


@pytest.fixture
async def hall(live: LiveService) -> AsyncIterator[Hall]:
    live.pbx.reset()
    ami = await harness_client(live.pbx.config)
    try:
        yield Hall(live, ami, live.api(Role.OPERATOR), live.api(Role.MONITOR))
    finally:
        await ami.stop()
        live.pbx.reset()


async def metrics(live: LiveService, role: Role = Role.MONITOR) -> dict:
    async with httpx.AsyncClient(base_url=live.base_url, headers=live.service.headers(role),
                                 timeout=10) as http:
        response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(PROMETHEUS_CONTENT_TYPE)
    return prometheus_samples(response.text)


async def asterisk_queue_entries(hall: Hall) -> list[dict[str, str]]:
    events = await snapshot(hall.ami, "QueueStatus")
    return [dict(e) for e in events if e.get("Event") == "QueueEntry"
            and e.get("Queue") == hall.live.pbx.config.queue.name]


async def asterisk_channels(hall: Hall) -> list[str]:
    events = await snapshot(hall.ami, "CoreShowChannels")
    return [e["Channel"] for e in events if e.get("Event") == "CoreShowChannel"]


def waiting_for(number: str | None) -> Any:
    return lambda data: any(w["caller_number"] == number for w in data["waiting"])


async def test_a_call_shows_in_status_stream_and_metrics(hall: Hall, tmp_path: Path) -> None:
    config = hall.live.pbx.config
    base = hall.live.base_url
    before = await hall.monitor.get("/api/status")
    assert before["ami"]["connected"] is True
    assert before["seats"]["total"] == len(config.seats)
    assert set(before["seats"]["by_state"]) == set(SEAT_STATES)
    assert sum(before["seats"]["by_state"].values()) == len(config.seats)

    phone = seat_phone(config, SEAT, tmp_path / "phones", auto_answer=False)
    async with (phone,
                EventStream(base, hall.live.token(Role.OPERATOR)) as ops,
                EventStream(base, hall.live.token(Role.MONITOR)) as wall):
        assert ops.content_type is not None and ops.content_type.startswith("text/event-stream")
        await hall.operator.wait_state(SEAT, "logged_out")
        login = await hall.operator.post(f"/api/seats/{SEAT}/login")
        assert login.status_code == 200, login.text
        await wall.wait("seat", seat_frame(SEAT, "available"))

        # The citizen waits in the queue while the seat's phone rings.
        await call_hotline(hall.ami, config, CITIZEN, CITIZEN_NAME)
        queued = await ops.wait("queue", waiting_for(CITIZEN), timeout=ENTRY_S)
        [entry] = [w for w in queued.data["waiting"] if w["caller_number"] == CITIZEN]
        assert entry["position"] == 1 and entry["queue"] == config.queue.name
        masked = await wall.wait("queue", waiting_for(mask_phone(CITIZEN)))
        assert CITIZEN not in str(masked.data)
        ringing = await ops.wait("seat", seat_frame(SEAT, "ringing"))
        assert ringing.data["call"]["citizen_number"] == CITIZEN
        await phone.wait_for("CALL_INCOMING", timeout=10)

        status = await hall.monitor.get("/api/status")
        assert status["queue"]["waiting"] == len(await asterisk_queue_entries(hall)) == 1
        assert status["queue"]["longest_wait_seconds"] is not None
        assert status["queue"]["longest_wait_seconds"] >= 0
        assert status["seats"]["by_state"]["ringing"] == 1
        assert CITIZEN not in str(status) and mask_phone(CITIZEN) not in str(status)
        assert [w["caller_number"] for w in await hall.monitor.get("/api/queue")] == [mask_phone(CITIZEN)]
        assert sample(await metrics(hall.live), "hotline_queue_waiting", hall=MAIN) == 1

        # The seat answers.
        await phone.answer()
        answered = await ops.wait("seat", seat_frame(SEAT, "on_call"))
        assert answered.data["call"]["citizen_number"] == CITIZEN
        assert answered.data["call"]["citizen_name"] == CITIZEN_NAME
        on_wall = await wall.wait("seat", seat_frame(SEAT, "on_call"))
        assert on_wall.data["call"]["citizen_number"] == mask_phone(CITIZEN)
        assert CITIZEN not in str(on_wall.data)
        await ops.wait("queue", lambda data: not data["waiting"], after=ringing.received)
        await ops.wait("calls", lambda data: data["in_progress"] >= 1)

        status = await hall.monitor.get("/api/status")
        assert status["seats"]["by_state"]["on_call"] == 1
        assert status["seats"]["by_state"]["ringing"] == 0
        assert status["calls"]["in_progress"] >= 1
        assert status["calls"]["three_way"] == 0
        assert status["queue"] == {"waiting": 0, "longest_wait_seconds": None}
        assert await asterisk_queue_entries(hall) == []
        samples = await metrics(hall.live)
        assert sample(samples, "hotline_seats", hall=MAIN, state="on_call") == 1
        assert sample(samples, "hotline_ami_connected", hall=MAIN) == 1
        assert sample(samples, "hotline_calls_in_progress", hall=MAIN) == status["calls"]["in_progress"]
        assert sample(samples, "hotline_queue_waiting", hall=MAIN) == 0
        await assert_agrees_with_asterisk(hall.operator, hall.ami, config)

        # The call's channels are Asterisk's own, the seat's phone among them.
        calls = (await hall.operator.get("/api/calls"))["calls"]
        [call] = [c for c in calls if c["citizen_number"] == CITIZEN]
        assert call["linkedid"] == answered.data["call"]["linkedid"]
        listed = {c["name"] for c in call["channels"]}
        seat_config = config.seat(SEAT)
        assert seat_config is not None
        seat_channel = f"PJSIP/{seat_config.extension}-"
        assert any(name.startswith(seat_channel) for name in listed), \
            f"GET /api/calls lists no {seat_channel}* channel for the answered call: {call}"
        assert listed <= set(await asterisk_channels(hall)), call

        # What a monitor sees of the call elsewhere: masked too.
        seat = await hall.monitor.seat(SEAT)
        assert seat["call"]["citizen_number"] == mask_phone(CITIZEN)
        calls = await hall.monitor.get("/api/calls")
        assert CITIZEN not in str(calls)
        assert mask_phone(CITIZEN) in [c["citizen_number"] for c in calls["calls"]]

        await asyncio.sleep(1)  # some talk time
        await phone.hangup()
        await wall.wait("seat", seat_frame(SEAT, "wrap_up"))
        await wall.wait("seat", seat_frame(SEAT, "available"), after=answered.received,
                        timeout=WRAPUP_S + 8)
    assert not any(CITIZEN in str(f.data) for f in wall.frames)

    async def counted() -> dict[str, Any] | None:
        now = await hall.monitor.get("/api/status")
        today, earlier = now["today"], before["today"]
        done = (today["received"] == earlier["received"] + 1
                and today["answered"] == earlier["answered"] + 1 and now["calls"]["in_progress"] == 0)
        return now if done else None

    after = await wait_for(counted, what="the answered call to be counted in /api/status")
    today = after["today"]
    assert today["abandoned"] == before["today"]["abandoned"]
    assert today["answer_rate"] is not None and 0 < today["answer_rate"] <= 1
    assert today["talk_seconds"] >= before["today"]["talk_seconds"] + 1
    assert after["seats"]["by_state"]["on_call"] == 0
    samples = await metrics(hall.live)
    assert sample(samples, "hotline_calls_answered_today", hall=MAIN) == today["answered"]
    assert sample(samples, "hotline_calls_received_today", hall=MAIN) == today["received"]
    assert sample(samples, "hotline_seats", hall=MAIN, state="on_call") == 0


async def test_status_stream_and_metrics_need_a_token(live: LiveService) -> None:
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as http:
        for path in ("/api/status", "/api/events", "/metrics"):
            response = await http.get(path)
            assert response.status_code == 401, (path, response.text)
            assert response.json()["error"]["code"] == "missing_token", path
            wrong = await http.get(path, headers={"Authorization": "Bearer not-a-token"})
            assert wrong.status_code == 401, (path, wrong.text)
    # Every role may read them; the stream greets with the server's time and version.
    for role in Role:
        assert (await live.api(role).get("/api/status"))["ami"]["connected"] is True
        assert sample(await metrics(live, role), "hotline_ami_connected", hall=MAIN) == 1
        async with EventStream(live.base_url, live.token(role)) as stream:
            [hello] = stream.of("hello")
            assert hello.data["server_time"] and hello.data["version"]

"""The shipped replay client (telephony/ami/testing.py): the real AmiClient logs in to it,
its actions are answered from the recordings, and a recording's events arrive in order."""

from __future__ import annotations

import asyncio

from telephony.ami import AmiClient, AmiSettings, Message
from telephony.ami.testing import TEST_SECRET, TEST_USER, ReplayAmiServer, header
from tests.ami_transcripts import recording, replay_server

WAIT = 5.0
QUEUE_CAPTURE = "05-queue-member-add-pause-remove.txt"
CALL_CAPTURE = "08-sip-seat-baresip-queue-call.txt"


def client_for(server: ReplayAmiServer, secret: str = TEST_SECRET) -> AmiClient:
    return AmiClient(AmiSettings(host="127.0.0.1", port=server.port, username=TEST_USER,
                                 secret=secret, ping_interval=0, backoff_initial=0.05,
                                 backoff_max=0.1))


async def test_actions_are_answered_from_the_recording_in_the_order_they_were_sent() -> None:
    server = await replay_server(QUEUE_CAPTURE).start()
    client = client_for(server)
    await client.start()
    try:
        await client.wait_connected(WAIT)
        first = await client.send_action("QueueAdd", Queue="hotline", Interface="Local/02@hotline-seat")
        second = await client.send_action("QueueAdd", Queue="hotline", Interface="Local/03@hotline-seat")
        status = await client.send_action("QueueStatus", Queue="hotline")
        pause = await client.send_action("QueuePause", Queue="hotline", Paused="true")
    finally:
        await client.stop()
        await server.close()
    assert first.get("Message") == "Added interface to queue"
    assert second.get("Message") == "Added interface to queue"
    recorded = recording(QUEUE_CAPTURE).answer(recording(QUEUE_CAPTURE).action_id("QueueStatus"))
    assert len(status.events) == len(recorded) - 2  # the response and the Complete aside
    assert status.message.action_id == server.actions("QueueStatus")[0].action_id
    assert pause.get("Message") == "Interface paused successfully"


async def test_a_recordings_events_arrive_in_order_paced_or_not() -> None:
    server = await replay_server().start()
    client = client_for(server)
    received: list[Message] = []
    client.add_listener(received.append)
    events = recording(CALL_CAPTURE).events()
    await client.start()
    try:
        await client.wait_connected(WAIT)
        await server.wait_logged_in(WAIT)
        received.clear()
        assert await server.play(events) == len(events)
        assert await server.play(events[:10], rate=500.0) == 10
        async with asyncio.timeout(WAIT):
            while len(received) < len(events) + 10:
                await asyncio.sleep(0.01)
    finally:
        await client.stop()
        await server.close()
    expected = [header(frame, "Event") for frame in events + events[:10]]
    assert [message.name for message in received] == expected


async def test_a_wrong_secret_is_refused_and_the_session_closed() -> None:
    server = await replay_server().start()
    client = client_for(server, secret="wrong")
    await client.start()
    try:
        async with asyncio.timeout(WAIT):
            while client.last_error is None:
                await asyncio.sleep(0.01)
    finally:
        await client.stop()
        await server.close()
    assert "Authentication failed" in (client.last_error or "")
    assert server.actions("Login") and not server.actions("QueueStatus")

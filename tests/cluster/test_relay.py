"""The cross-node live feed on a real PostgreSQL: what one node publishes reaches the streams
of another, in order; the hall's own kinds stay on the node that follows Asterisk itself."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from hotline.cluster import FeedRelay
from hotline.live import LiveFeed

pytestmark = pytest.mark.postgres
HALL_KINDS = ("seat", "queue", "calls")


async def started(url: str, node: str) -> tuple[LiveFeed, FeedRelay]:
    feed = LiveFeed()
    relay = FeedRelay(url, feed, node, local_kinds=HALL_KINDS)
    await relay.start(SimpleNamespace(state=SimpleNamespace()))
    for _ in range(100):
        if relay.connected:
            break
        await asyncio.sleep(0.05)
    assert relay.connected
    return feed, relay


async def test_a_change_on_one_node_reaches_the_other_in_order(postgres_url: str) -> None:
    feed_a, relay_a = await started(postgres_url, "a")
    feed_b, relay_b = await started(postgres_url, "b")
    try:
        here = feed_a.subscribe()
        there = feed_b.subscribe()
        feed_a.publish("seat", {"seat_id": "01"})  # the hall's: never relayed
        for n in range(40):
            feed_a.publish("claims", {"n": n})  # a kind that is not coalesced: every one counts
        received = []
        while len(received) < 40:
            event = await there.next_event(5.0)
            assert event is not None, f"only {len(received)} of 40 arrived"
            received.append(event)
        assert [e.kind for e in received] == ["claims"] * 40
        assert [e.payload["n"] for e in received] == list(range(40))
        assert await there.next_event(0.3) is None  # not the seat, and nothing twice
        local = [await here.next_event(1.0) for _ in range(41)]
        assert [e.kind for e in local if e] == ["seat", *["claims"] * 40]  # own events once, not echoed
        assert relay_a.sent == 40 and relay_b.received == 40 and relay_a.received == 0
    finally:
        await relay_a.stop()
        await relay_b.stop()


async def test_payloads_that_cannot_travel_stay_local(postgres_url: str) -> None:
    feed_a, relay_a = await started(postgres_url, "a")
    feed_b, relay_b = await started(postgres_url, "b")
    try:
        there = feed_b.subscribe()
        feed_a.publish("voicemails", {"blob": object()})
        feed_a.publish("voicemails", {"big": "长" * 4000})
        feed_a.publish("voicemails", {"reason": "registered"})
        event = await there.next_event(5.0)
        assert event is not None and event.payload == {"reason": "registered"}
    finally:
        await relay_a.stop()
        await relay_b.stop()

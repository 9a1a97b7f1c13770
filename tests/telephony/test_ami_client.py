"""AmiClient against a loopback server replaying recorded Asterisk 22 traffic."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from telephony.ami import (
    DEFAULT_EVENTS_MASK,
    LIST_COMPLETE_EVENTS,
    AmiActionError,
    AmiClient,
    AmiNotConnected,
    AmiSettings,
    AmiState,
    AmiTimeout,
    Message,
)
from telephony.ami.backoff import Backoff
from telephony.ami.testing import (
    TEST_SECRET,
    TEST_USER,
    ReceivedAction,
    ReplayAmiServer,
    Reply,
    header,
    replying,
    simple_response,
    split_frames,
    with_action_id,
)
from tests.ami_transcripts import action_id_of, recording, replay_server, transcript_files, wire_transcript

RANDOM_SEED = 12345
WAIT = 5.0
POLL = 0.01
FAST: dict[str, Any] = {
    "connect_timeout": 1.0,
    "action_timeout": 2.0,
    "backoff_initial": 0.05,
    "backoff_max": 0.2,
    "backoff_jitter": 0.1,
    "ping_interval": 0.0,
}
QUEUE_TRANSCRIPT = "05-queue-member-add-pause-remove.txt"
LOGIN_TRANSCRIPT = "01-login-corestatus-queuestatus.txt"
CALL_TRANSCRIPT = "08-sip-seat-baresip-queue-call.txt"
LOGIN_EVENTS = ["FullyBooted"]
"""What the sandbox Asterisk sends right behind the login answer (its manager.conf filters
the security events such as SuccessfulAuth)."""
QUEUE_STATUS_ID = action_id_of(LOGIN_TRANSCRIPT, "QueueStatus")


# Fixtures and helpers ----------------------------------------------------------------------
def replying_recorded(transcript: str, recorded_action_id: str) -> Callable[[ReceivedAction], Reply]:
    """A handler answering with the recorded answer to one action of a capture."""
    return replying(recording(transcript).answer(recorded_action_id))


@pytest.fixture
async def server() -> AsyncIterator[ReplayAmiServer]:
    replay = await replay_server().start()
    yield replay
    await replay.close()


@pytest.fixture
async def make_client(server: ReplayAmiServer) -> AsyncIterator[Callable[..., AmiClient]]:
    made: list[AmiClient] = []

    def factory(**overrides: Any) -> AmiClient:
        options = {**FAST, **overrides}
        settings = AmiSettings(
            host="127.0.0.1",
            port=server.port,
            username=TEST_USER,
            secret=options.pop("secret", TEST_SECRET),
            **options,
        )
        client = AmiClient(settings, rng=random.Random(RANDOM_SEED))
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.stop()


async def wait_until(predicate: Callable[[], bool], timeout: float = WAIT) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(POLL)


def event_names(messages: list[Message]) -> list[str | None]:
    return [message.name for message in messages]


def named_event(name: str, **headers: str) -> bytes:
    lines = [f"Event: {name}", *(f"{key}: {value}" for key, value in headers.items())]
    return "\r\n".join(lines).encode()


async def connected_client(
    make_client: Callable[..., AmiClient], **overrides: Any
) -> tuple[AmiClient, list[Message]]:
    client = make_client(**overrides)
    received: list[Message] = []
    client.add_listener(received.append)
    await client.start()
    await client.wait_connected(WAIT)
    await wait_until(lambda: len(received) >= len(LOGIN_EVENTS))
    return client, received


# Login -----------------------------------------------------------------------------------
async def test_login_with_credentials_and_events_mask(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client()
    states: list[AmiState] = []
    client.add_state_listener(states.append)
    received: list[Message] = []
    client.add_listener(received.append)
    await client.start()
    await client.wait_connected(WAIT)

    login = server.actions("Login")[0]
    assert login.get("Username") == TEST_USER
    assert login.get("Secret") == TEST_SECRET
    assert login.get("Events") == DEFAULT_EVENTS_MASK
    assert login.action_id.startswith("hotline-")
    assert client.connected and client.state is AmiState.CONNECTED
    assert client.connected_since is not None
    assert client.banner == "11.0.0"
    assert states == [
        AmiState.CONNECTING,
        AmiState.LOGGING_IN,
        AmiState.RESYNCING,
        AmiState.CONNECTED,
    ]
    await wait_until(lambda: len(received) == len(LOGIN_EVENTS))
    assert event_names(received) == LOGIN_EVENTS
    assert (client.stats.logins, client.stats.reconnects) == (1, 0)


async def test_send_before_connect_raises_not_connected(
    make_client: Callable[..., AmiClient],
) -> None:
    client = make_client()
    with pytest.raises(AmiNotConnected):
        await client.send_action("Ping")


async def test_wrong_secret_reported_and_retried_at_max_backoff(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    client = make_client(secret="wrong")
    await client.start()
    await wait_until(lambda: server.connections >= 3)
    await wait_until(lambda: client.state is AmiState.LOGIN_REFUSED)
    assert not client.connected
    assert client.last_error is not None and "Authentication failed" in client.last_error
    gaps = [b - a for a, b in zip(server.connect_times, server.connect_times[1:], strict=False)]
    floor = FAST["backoff_max"] * (1 - FAST["backoff_jitter"])
    assert all(gap >= floor for gap in gaps), gaps
    with pytest.raises(TimeoutError):
        await client.wait_connected(0.05)


# Actions ---------------------------------------------------------------------------------
async def test_out_of_order_responses_reach_their_callers(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    release = asyncio.Event()
    recorded_add = replying_recorded(QUEUE_TRANSCRIPT, action_id_of(QUEUE_TRANSCRIPT, "QueueAdd"))

    async def slow_add(action: ReceivedAction) -> Reply:
        await release.wait()
        return recorded_add(action)  # type: ignore[return-value]

    server.handlers["queueadd"] = slow_add
    server.handlers["queuepause"] = replying_recorded(
        QUEUE_TRANSCRIPT, action_id_of(QUEUE_TRANSCRIPT, "QueuePause"))
    client, _ = await connected_client(make_client)

    add_task = asyncio.create_task(
        client.send_action("QueueAdd", Queue="hotline", Interface="Local/01@hotline-seat")
    )
    await server.wait_action("QueueAdd")
    pause = await client.send_action("QueuePause", Interface="Local/01@hotline-seat", Paused=True)
    assert not add_task.done()
    release.set()
    add = await add_task

    assert add["Message"] == "Added interface to queue"
    assert pause["Message"] == "Interface paused successfully"
    assert add.message.action_id == server.actions("QueueAdd")[0].action_id
    assert pause.message.action_id == server.actions("QueuePause")[0].action_id
    assert add.message.action_id != pause.message.action_id
    assert server.actions("QueuePause")[0].get("Paused") == "true"


def recorded_lists() -> list[tuple[str, str, str]]:
    """(transcript, recorded ActionID, action name) of every event list in the captures."""
    by_complete = {done.lower(): action for action, done in LIST_COMPLETE_EVENTS.items()}
    found = []
    for path in transcript_files():
        raw = wire_transcript(path)
        for frame in split_frames(raw):
            if frame.startswith(b"Event: ") and header(frame, "EventList") == "Complete":
                completed = header(frame, "Event") or ""
                action = by_complete.get(completed.lower(), f"<no table entry for {completed}>")
                found.append((path.name, header(frame, "ActionID") or "", action))
    return found


@pytest.mark.parametrize(("transcript", "recorded_id", "action"), recorded_lists())
async def test_recorded_list_actions_are_collected_to_their_complete_event(
    server: ReplayAmiServer,
    make_client: Callable[..., AmiClient],
    transcript: str,
    recorded_id: str,
    action: str,
) -> None:
    assert action in LIST_COMPLETE_EVENTS, action
    server.handlers[action.lower()] = replying_recorded(transcript, recorded_id)
    client, received = await connected_client(make_client)

    response = await client.send_action(action)

    recorded = recording(transcript).answer(recorded_id)
    assert response.message["EventList"] == "start"
    assert response.complete is not None
    assert response.complete.name == LIST_COMPLETE_EVENTS[action]
    assert len(response.events) == int(response.complete["ListItems"])
    assert len(response.events) == len(recorded) - 2
    our_id = server.actions(action)[0].action_id
    assert all(event.action_id == our_id for event in response.events)
    await client.send_action("Ping")  # anything queued for listeners has been read by now
    await wait_until(lambda: client.queued_events == 0)
    assert event_names(received) == LOGIN_EVENTS


async def test_list_items_and_unsolicited_events_are_separated(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    recorded = recording(LOGIN_TRANSCRIPT).answer(QUEUE_STATUS_ID)
    queues = [header(frame, "Queue") for frame in recorded if frame.startswith(b"Event: QueueParams")]
    newchannel = next(
        frame
        for frame in recording(CALL_TRANSCRIPT).events()
        if frame.startswith(b"Event: Newchannel")
    )

    def interleaved(action: ReceivedAction) -> Reply:
        frames = [with_action_id(frame, action.action_id) for frame in recorded]
        return [frames[0], newchannel, frames[1], newchannel, *frames[2:]]

    server.handlers["queuestatus"] = interleaved
    client, received = await connected_client(make_client)

    response = await client.send_action("QueueStatus")

    assert queues == ["hotline"]  # the shipped hotline.conf has one queue
    assert event_names(list(response.events)) == ["QueueParams"] * len(queues)
    assert [event["Queue"] for event in response.events] == queues
    await wait_until(lambda: len(received) == len(LOGIN_EVENTS) + 2)
    assert event_names(received) == [*LOGIN_EVENTS, "Newchannel", "Newchannel"]


async def test_empty_list_completes_with_no_events(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    server.handlers["coreshowchannels"] = replying_recorded(
        LOGIN_TRANSCRIPT, action_id_of(LOGIN_TRANSCRIPT, "CoreShowChannels"))
    client, _ = await connected_client(make_client)
    response = await client.send_action("CoreShowChannels")
    assert response.events == ()
    assert response.complete is not None and response.complete["ListItems"] == "0"


async def test_list_not_in_table_is_closed_by_eventlist_complete(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    def foo_list(action: ReceivedAction) -> Reply:
        aid = action.action_id
        return [
            simple_response(action, EventList="start", Message="Foo will follow"),
            named_event("FooEntry", ActionID=aid, Name="one"),
            named_event("FooEntry", ActionID=aid, Name="two"),
            named_event("FooListDone", ActionID=aid, EventList="Complete", ListItems="2"),
        ]

    server.handlers["foolist"] = foo_list
    client, _ = await connected_client(make_client)
    response = await client.send_action("FooList")
    assert [event["Name"] for event in response.events] == ["one", "two"]
    assert response.complete is not None and response.complete.name == "FooListDone"


async def test_table_list_action_answered_without_list_resolves_at_once(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    server.handlers["status"] = lambda action: [simple_response(action, Message="nothing")]
    client, _ = await connected_client(make_client)
    response = await client.send_action("Status")
    assert response.events == () and response.complete is None
    assert response["Message"] == "nothing"


async def test_originate_response_event_goes_to_listeners(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    # The capture holds the Originate response and, later, its OriginateResponse event.
    server.handlers["originate"] = replying_recorded(
        "02-voicemail-closed-hours.txt", action_id_of("02", "Originate"))
    client, received = await connected_client(make_client)
    response = await client.send_action(
        "Originate", Channel="Local/12345@hotline-entry/n", Application="Wait", Async=True
    )
    assert response["Message"] == "Originate successfully queued"
    await wait_until(lambda: "OriginateResponse" in event_names(received))
    event = received[-1]
    assert event.action_id == server.actions("Originate")[0].action_id


async def test_error_response_raises_action_error_with_message(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    # The recorder hangs the citizen up, then asks again once the channel is gone.
    server.handlers["hangup"] = replying_recorded(
        "07-threeway-bridgeadd.txt", action_id_of("07", "Hangup", nth=1))
    client, _ = await connected_client(make_client)
    with pytest.raises(AmiActionError) as caught:
        await client.send_action("Hangup", Channel="Local/12345@hotline-entry-00000000;2")
    assert caught.value.action == "Hangup"
    assert caught.value.message.name == "Error"
    assert caught.value.message["Message"] == "No such channel"
    assert "No such channel" in str(caught.value)
    assert client.connected


async def test_action_timeout_and_late_answer_dropped(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    timeout = 0.2
    server.handlers["queuestatus"] = lambda action: None
    client, received = await connected_client(make_client, action_timeout=timeout)
    loop = asyncio.get_running_loop()

    started = loop.time()
    with pytest.raises(AmiTimeout, match="QueueStatus"):
        await client.send_action("QueueStatus")
    assert timeout <= loop.time() - started < WAIT
    assert client.stats.action_timeouts == 1
    assert client.pending_actions == 0

    late_id = server.actions("QueueStatus")[0].action_id
    recorded = recording(LOGIN_TRANSCRIPT).answer(QUEUE_STATUS_ID)
    server.push([with_action_id(frame, late_id) for frame in recorded])
    server.push([named_event("Sentinel")])
    await wait_until(lambda: "Sentinel" in event_names(received))
    assert event_names(received) == [*LOGIN_EVENTS, "Sentinel"]
    assert client.connected


# Connection loss and reconnect -------------------------------------------------------------
async def test_cut_fails_pending_action_without_resend_then_reconnects(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    server.handlers["originate"] = lambda action: None
    client, _ = await connected_client(make_client, action_timeout=WAIT * 2)
    loop = asyncio.get_running_loop()

    pending = asyncio.create_task(client.send_action("Originate", Channel="Local/x@y"))
    await server.wait_action("Originate")
    cut_at = loop.time()
    server.cut()
    with pytest.raises(AmiNotConnected):
        await pending
    assert loop.time() - cut_at < WAIT

    await client.wait_connected(WAIT)
    assert server.connections == 2
    assert len(server.actions("Originate")) == 1
    assert (client.stats.reconnects, client.stats.connection_losses) == (1, 1)
    assert client.last_error is not None
    floor = FAST["backoff_initial"] * (1 - FAST["backoff_jitter"])
    assert server.connect_times[1] - cut_at >= floor


async def test_login_hooks_run_before_later_events_after_every_login(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    order: list[str] = []
    recorded_status = replying_recorded(LOGIN_TRANSCRIPT, QUEUE_STATUS_ID)

    async def slow_status(action: ReceivedAction) -> Reply:
        await asyncio.sleep(0.1)  # events written right after login wait meanwhile
        return recorded_status(action)  # type: ignore[return-value]

    server.handlers["queuestatus"] = slow_status
    call_events = recording(CALL_TRANSCRIPT).events()[:5]
    server.after_login = call_events

    async def snapshot(client: AmiClient) -> None:
        order.append("hook-start")
        response = await client.send_action("QueueStatus")
        order.append(f"hook-done:{len(response.events)}")

    client = make_client()
    client.add_login_hook(snapshot)
    client.add_listener(lambda message: order.append(str(message.name)))
    one_login = [
        "hook-start",
        f"hook-done:{len(recording(LOGIN_TRANSCRIPT).answer(QUEUE_STATUS_ID)) - 2}",
        *LOGIN_EVENTS,
        *(header(frame, "Event") for frame in call_events),
    ]

    await client.start()
    await wait_until(lambda: len(order) == len(one_login))
    server.cut()
    await wait_until(lambda: len(order) == 2 * len(one_login))

    assert order == one_login * 2
    assert client.stats.resyncs == 2
    assert server.connections == 2


async def test_queue_overflow_drops_backlog_and_resyncs(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    queue_size = 4
    burst = 10
    gate = asyncio.Event()
    seen: list[str] = []

    async def slow_listener(message: Message) -> None:
        seen.append(str(message.name))
        if message.name == "Block":
            await gate.wait()

    async def hook(_client: AmiClient) -> None:
        seen.append("resync")

    client = make_client(event_queue_size=queue_size)
    client.add_listener(slow_listener)
    client.add_login_hook(hook)
    await client.start()
    await client.wait_connected(WAIT)
    await wait_until(lambda: len(seen) == 1 + len(LOGIN_EVENTS))

    server.push([named_event("Block")])
    await wait_until(lambda: seen[-1] == "Block")
    burst_events = recording(CALL_TRANSCRIPT).events()[:burst]
    server.push(burst_events)
    # The reader never waits for the stuck listener: responses still flow.
    pong = await client.send_action("Ping")
    assert pong["Ping"] == "Pong"

    # 4 queued + the 5th dropped, marker; 3 more fill up, the 9th overflows again.
    assert client.stats.queue_overflows == 2
    assert client.stats.events_dropped == burst - 1
    assert client.state is AmiState.RESYNCING or client.state is AmiState.CONNECTED

    gate.set()
    server.push([named_event("After")])
    await wait_until(lambda: seen[-1:] == ["After"])
    last = header(burst_events[-1], "Event")
    assert seen == ["resync", *LOGIN_EVENTS, "Block", "resync", last, "After"]
    assert client.stats.resyncs == 2
    await client.wait_connected(WAIT)


async def test_keepalive_ping_detects_dead_link(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    server.handlers["ping"] = lambda action: None
    client = make_client(ping_interval=0.1, ping_timeout=0.2)
    await client.start()
    await wait_until(lambda: server.connections >= 2)
    assert client.last_error is not None and "Ping" in client.last_error


async def test_a_busy_link_that_still_delivers_is_not_cut_for_a_late_ping(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    server.handlers["ping"] = lambda action: None
    client = make_client(ping_interval=0.1, ping_timeout=0.2)
    await client.start()
    await client.wait_connected(WAIT)
    for n in range(40):  # 2 s of events, ten Ping timeouts' worth, never a silent 0.2 s
        server.push([named_event("UserEvent", UserEvent=f"tick{n}")])
        await asyncio.sleep(0.05)
    assert server.connections == 1 and client.connected
    await wait_until(lambda: server.connections >= 2)  # silence: now the link is declared dead


# Listeners and lifecycle -------------------------------------------------------------------
async def test_failing_listener_does_not_stop_dispatch_and_filters_apply(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    def broken(_message: Message) -> None:
        raise RuntimeError("listener bug")

    hangups: list[Message] = []
    client = make_client()
    client.add_listener(broken)
    client.add_listener(hangups.append, events=["hangup"])
    everything: list[Message] = []
    remove = client.add_listener(everything.append)
    await client.start()
    await client.wait_connected(WAIT)
    server.push([named_event("Newchannel"), named_event("Hangup", Cause="16")])
    await wait_until(lambda: len(everything) == len(LOGIN_EVENTS) + 2)
    assert event_names(hangups) == ["Hangup"]
    remove()
    server.push([named_event("Hangup")])
    await wait_until(lambda: len(hangups) == 2)
    assert len(everything) == len(LOGIN_EVENTS) + 2


async def test_stop_logs_off_and_refuses_later_actions(
    server: ReplayAmiServer, make_client: Callable[..., AmiClient]
) -> None:
    client, _ = await connected_client(make_client)
    await client.stop()
    assert len(server.actions("Logoff")) == 1
    assert client.state is AmiState.STOPPED
    assert not client.connected and client.connected_since is None
    with pytest.raises(AmiNotConnected):
        await client.send_action("Ping")
    await asyncio.sleep(FAST["backoff_max"])
    assert server.connections == 1


def test_backoff_doubles_with_jitter_caps_and_resets() -> None:
    initial, maximum, jitter = 0.5, 4.0, 0.2
    backoff = Backoff(initial, maximum, jitter, random.Random(RANDOM_SEED))
    bases = [0.5, 1.0, 2.0, 4.0, 4.0]
    for base in bases:
        delay = backoff.next_delay()
        assert base * (1 - jitter) <= delay <= base * (1 + jitter)
    assert maximum * (1 - jitter) <= backoff.max_delay() <= maximum * (1 + jitter)
    backoff.reset()
    assert backoff.next_delay() <= initial * (1 + jitter)
    with pytest.raises(ValueError):
        Backoff(0, 1, 0)
    with pytest.raises(ValueError):
        Backoff(1, 2, 1.5)


def test_by_default_a_frozen_link_is_noticed_within_five_seconds() -> None:
    """Issue 13: with a 20 s Ping interval and the 10 s action timeout it took 17-30 s."""
    settings = AmiSettings()
    assert 0 < settings.ping_interval + settings.ping_timeout <= 5.0
    assert settings.backoff_max <= 5.0  # and once the PBX is back, the link is within 5 s
    with pytest.raises(ValueError):
        AmiSettings(ping_timeout=0)


def test_settings_validate_and_hide_secret() -> None:
    assert "s3cret" not in repr(AmiSettings(username="u", secret="s3cret"))
    with pytest.raises(ValueError):
        AmiSettings(action_timeout=0)
    with pytest.raises(ValueError):
        AmiSettings(backoff_initial=2, backoff_max=1)

"""A silently dead AMI link (the peer stopped, no FIN) against the real sandbox Asterisk."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from telephony.ami import AmiClient, AmiSettings
from tests.hall_pbx import HallPbx
from tests.integration.frozen_proxy import FrozenProxy

pytestmark = pytest.mark.pbx
# Generous: the guarantee (interval + timeout <= 5 s) is checked on the settings themselves
# (tests/telephony/test_ami_client.py); here the Ping must be what notices it.
NOTICE_WAIT_S = 15.0


@pytest.fixture
def proxy(hall_pbx: HallPbx) -> Iterator[FrozenProxy]:
    running = FrozenProxy.start(hall_pbx.config.ami.host, hall_pbx.config.ami.port)
    try:
        yield running
    finally:
        running.stop()


async def test_a_frozen_link_is_noticed_by_the_keepalive_and_the_client_comes_back(
        hall_pbx: HallPbx, proxy: FrozenProxy) -> None:
    ami = hall_pbx.config.ami
    client = AmiClient(AmiSettings(host="127.0.0.1", port=proxy.port, username=ami.username,
                                   secret=ami.secret, action_id_prefix="frozen"))
    await client.start()
    try:
        await client.wait_connected(10)
        assert (await client.send_action("Ping")).get("Ping") == "Pong"
        loop = asyncio.get_running_loop()
        frozen_at = loop.time()
        proxy.freeze()
        async with asyncio.timeout(NOTICE_WAIT_S):
            while client.connected:
                await asyncio.sleep(0.05)
        print(f"frozen_link_noticed_s={loop.time() - frozen_at:.2f}")
        assert client.last_error is not None and "Ping" in client.last_error
        proxy.thaw()
        await client.wait_connected(30)
        assert (await client.send_action("Ping")).get("Ping") == "Pong"
    finally:
        await client.stop()

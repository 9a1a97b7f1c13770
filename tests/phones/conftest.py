"""Fixtures: one real Asterisk for the phone tests (session), and phones that are always stopped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from hotline.phones import BaresipPhone
from tests.phones import pbx as test_pbx
from tests.phones.pbx import PhoneFactory


@pytest.fixture(scope="session")
def phones_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[test_pbx.PhonesPbx]:
    running = test_pbx.start(tmp_path_factory.mktemp("phones-pbx"))
    try:
        yield running
    finally:
        running.pbx.down()


@pytest.fixture
async def make_phone(
    phones_pbx: test_pbx.PhonesPbx, tmp_path: Path
) -> AsyncIterator[PhoneFactory]:
    """Build phones registered against the test PBX; every phone built is stopped at teardown."""
    built: list[BaresipPhone] = []

    def factory(name: str, username: str, **kwargs: Any) -> BaresipPhone:
        options: dict[str, Any] = {
            "server_host": phones_pbx.host,
            "server_port": phones_pbx.sip_port,
            "password": phones_pbx.password,
            "work_dir": tmp_path / "phones",
        }
        options.update(kwargs)
        phone = BaresipPhone(name, username=username, **options)
        built.append(phone)
        return phone

    yield factory
    for phone in built:
        await phone.stop()

"""Fixtures of the IVR tests: a hall with demo secrets, and the rendered PBX in the sandbox."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hotline.config import HotlineConfig, load_config
from hotline.config.secrets import write_demo_secrets
from tests.ivr import pbx as ivr_pbx
from tests.ivr.phones import CITIZEN_PJSIP

REPO = Path(__file__).resolve().parents[2]
NIGHT_SHIFT = "17:30-08:30"
SHORT_OVERFLOW_SECONDS = "2"


@pytest.fixture(scope="session")
def hall_conf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped hotline.conf next to freshly generated demo secrets."""
    folder = tmp_path_factory.mktemp("hall")
    shutil.copy(REPO / "hotline.conf", folder / "hotline.conf")
    shutil.copy(REPO / "remit.conf", folder / "remit.conf")
    assert write_demo_secrets(folder / "hotline.conf") is not None
    return folder / "hotline.conf"


@pytest.fixture(scope="session")
def hall(hall_conf: Path) -> HotlineConfig:
    return load_config(hall_conf)


@pytest.fixture(scope="session")
def main_pbx(hall_conf: Path, tmp_path_factory: pytest.TempPathFactory,
             ) -> Iterator[ivr_pbx.IvrPbx]:
    """The shipped configuration, rendered and running (one per session)."""
    running = ivr_pbx.start("ivrmain", hall_conf, tmp_path_factory.mktemp("render"),
                            pjsip_local=CITIZEN_PJSIP)
    try:
        yield running
    finally:
        ivr_pbx.stop(running)


@pytest.fixture(scope="session")
def variant_pbx(hall_conf: Path, tmp_path_factory: pytest.TempPathFactory,
                ) -> Iterator[ivr_pbx.IvrPbx]:
    """The same hall with a night shift and a 2-second overflow."""
    running = ivr_pbx.start("ivrvar", hall_conf, tmp_path_factory.mktemp("render"), {
        "hours.night_shift": NIGHT_SHIFT,
        "queue.overflow_seconds": SHORT_OVERFLOW_SECONDS,
    }, pjsip_local=CITIZEN_PJSIP)
    try:
        yield running
    finally:
        ivr_pbx.stop(running)


@pytest.fixture
async def pbx(main_pbx: ivr_pbx.IvrPbx) -> AsyncIterator[ivr_pbx.IvrPbx]:
    """The main PBX for one test; the test fails if it made Asterisk log a warning or error."""
    main_pbx.new_problems()
    yield main_pbx
    await main_pbx.close_clients()
    problems = main_pbx.new_problems()
    assert not problems, "Asterisk logged problems during this test:\n" + "\n".join(problems)


@pytest.fixture
async def variant(variant_pbx: ivr_pbx.IvrPbx) -> AsyncIterator[ivr_pbx.IvrPbx]:
    variant_pbx.new_problems()
    yield variant_pbx
    await variant_pbx.close_clients()
    problems = variant_pbx.new_problems()
    assert not problems, "Asterisk logged problems during this test:\n" + "\n".join(problems)

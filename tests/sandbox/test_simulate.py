"""`hotline sandbox simulate` against a real sandbox PBX and a real `hotline serve`.

The command runs as its own process, as `./run demo` runs it. What it did is read back from the
service's API and store, and what it must leave behind (nothing: no phone process, no active
token, no citizen endpoint) from the machine and the PBX.
"""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.auth import Role, TokenInfo, list_tokens
from hotline.db import make_engine, make_session_factory
from hotline.phones.baresip import free_port
from seat_manager.models import SeatStateChange
from tests.hall_pbx import HallPbx, instance_name, start_hall_pbx
from tests.integration.harness import Api
from tests.service_process import ServiceProcess

pytestmark = pytest.mark.pbx

SEATS = ("01", "02", "03")
CALLS = 2
MESSAGES = 2
ALWAYS = "00:00-24:00"
SIM_TIMEOUT_S = 150.0  # prompts before the queue take ~16 s; the whole scenario about 40 s
REFUSAL_TIMEOUT_S = 30.0
SIM_NUMBER = re.compile(r"^13[89]0000\d{4}$")
FOREIGN_LOCAL = "; the site's own test phones\n[somebody](hotline-phone)\ncontext=hotline-citizens\n"


@pytest.fixture(scope="module")
def sim_pbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallPbx]:
    """The hall's PBX with experts on duty around the clock, so the three-way call connects
    whatever the time of the test."""
    running = start_hall_pbx(instance_name("simulate"), tmp_path_factory.mktemp("simulate"), {
        "expert 王建国.duty": ALWAYS, "expert 李明.duty": ALWAYS, "expert 赵芳.duty": ALWAYS,
        "queue.wrapup_seconds": "2", "threeway.expert_ring_seconds": "10"})
    try:
        yield running
    finally:
        running.stop()


@dataclass
class Run:
    returncode: int
    output: str


@dataclass
class Env:
    pbx: HallPbx
    service: ServiceProcess
    api: Api
    work: Path

    async def simulate(self, *args: str, timeout: float = SIM_TIMEOUT_S) -> Run:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hotline.cli", "-c", str(self.pbx.config.path), "sandbox",
            "simulate", "--name", self.pbx.name, "--out", str(self.pbx.rendered),
            "--work-dir", str(self.work), *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            output, _ = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.terminate()
            output, _ = await process.communicate()
            raise AssertionError("simulate did not finish in time:\n"
                                 + output.decode(errors="replace")) from None
        assert process.returncode is not None
        return Run(process.returncode, output.decode(errors="replace"))

    def tokens(self) -> list[TokenInfo]:
        engine = make_engine(self.pbx.config.database.url)
        try:
            with make_session_factory(engine)() as session:
                return [t for t in list_tokens(session) if t.name.startswith("simulate-")]
        finally:
            engine.dispose()

    def on_call_rows(self) -> list[SeatStateChange]:
        engine = make_engine(self.pbx.config.database.url)
        try:
            with make_session_factory(engine)() as session:
                return list(session.scalars(select(SeatStateChange)
                                            .where(SeatStateChange.new_state == "on_call")))
        finally:
            engine.dispose()

    def local_conf(self) -> str:
        return (self.pbx.rendered / "pjsip_local.conf").read_text(encoding="utf-8")

    def live_local_conf(self) -> str:
        return (self.pbx.pbx.instance_dir / "etc" / "pjsip_local.conf").read_text(encoding="utf-8")


@pytest.fixture
async def env(sim_pbx: HallPbx, tmp_path: Path) -> AsyncIterator[Env]:
    sim_pbx.reset()
    database = Path(sim_pbx.config.database.url.removeprefix("sqlite:///"))
    for path in database.parent.glob(database.name + "*"):  # each test starts with a new store
        path.unlink()
    service = ServiceProcess(sim_pbx.config, tmp_path / "serve.log")
    try:
        await service.start()
        yield Env(sim_pbx, service, Api(service.base_url, service.headers(Role.ADMIN)),
                  tmp_path / "sim")
    finally:
        service.stop()
        sim_pbx.reset()


def baresip_processes(work: Path) -> list[str]:
    """Command lines of live baresip processes whose configuration lives under `work`."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        if words and Path(words[0]).name == "baresip" and any(str(work) in w for w in words):
            found.append(" ".join(words))
    return found


async def test_once_fills_the_hall_and_leaves_nothing_behind(env: Env) -> None:
    assert env.local_conf() == ""  # what start_hall_pbx wrote: the simulation may use it
    run = await env.simulate("--once", "--seats", str(len(SEATS)), "--calls", str(CALLS),
                             "--messages", str(MESSAGES), "--fast", "--seed", "20261128")
    assert run.returncode == 0, run.output + "\n--- service log ---\n" + env.service.log_tail()

    # Seats answered: the service recorded them going on a call.
    rows = env.on_call_rows()
    assert rows and {r.seat_id for r in rows} <= set(SEATS), rows
    # Some seat was paused with one of the reasons the wallboard shows.
    assert re.search(r"坐席0[123] 签入，示忙：(小休|培训)", run.output), run.output

    # The three-way call was started through the API and the expert joined.
    sessions = await env.api.get("/api/threeway/sessions")
    assert len(sessions) == 1, sessions
    session = sessions[0]
    assert session["seat_id"] in SEATS and session["department"]
    expert = [p for p in session["participants"] if p["role"] == "expert" and p["joined_at"]]
    assert expert, session
    assert session["state"] == "ended", session

    # Every after-hours caller's message was registered, from the simulation's citizens.
    page = await env.api.get("/api/voicemails?limit=100")
    assert page["total"] == MESSAGES, page
    for item in page["items"]:
        assert item["route"] == "after_hours", item
        assert SIM_NUMBER.match(item["caller_num"] or ""), item
        assert item["caller_name"] and item["duration_s"] > 2, item

    # Nothing left: no phone process, the token revoked, the endpoints gone, the seats out.
    assert baresip_processes(env.work) == []
    tokens = env.tokens()
    assert len(tokens) == 1 and tokens[0].role is Role.ADMIN and not tokens[0].active, tokens
    assert env.local_conf() == "" and env.live_local_conf() == ""
    endpoints = env.pbx.cli("pjsip show endpoints")
    assert "simday" not in endpoints and "simnight" not in endpoints
    seats = {s["seat_id"]: s for s in await env.api.get("/api/seats")}
    assert not any(seats[seat_id]["logged_in"] for seat_id in SEATS), seats
    assert "白天来电 2 通：接听 2" in run.output and "夜间留言：留下 2，已登记 2" in run.output


async def test_refuses_without_a_service_and_says_so(env: Env) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    run = await env.simulate("--once", "--seats", "1", "--api", nobody, timeout=REFUSAL_TIMEOUT_S)
    assert run.returncode == 1, run.output
    assert f"{nobody} 的热线服务没有应答" in run.output
    assert env.tokens() == [] and env.local_conf() == ""


async def test_never_overwrites_a_pjsip_local_that_is_not_its_own(env: Env) -> None:
    (env.pbx.rendered / "pjsip_local.conf").write_text(FOREIGN_LOCAL, encoding="utf-8")
    try:
        run = await env.simulate("--once", "--seats", "1", timeout=REFUSAL_TIMEOUT_S)
        assert run.returncode == 1, run.output
        assert "不属于模拟程序的话机配置" in run.output
        assert env.local_conf() == FOREIGN_LOCAL
        assert env.live_local_conf() == ""  # the running PBX's copy untouched too
        assert baresip_processes(env.work) == []
        tokens = env.tokens()
        assert tokens and not any(t.active for t in tokens), tokens
    finally:
        (env.pbx.rendered / "pjsip_local.conf").write_text("", encoding="utf-8")

"""Faults against the sandbox PBX with a real seat phone and a call in progress; prints one row
per fault: fault | converged in | records lost | records duplicated | wrong times.

Run by hand (a few minutes; needs the sandbox Asterisk root `./run` builds):

    .venv/bin/python bench/faults.py [--cuts 1,5,20,60] [--freeze 10] [--no-restart]

Each row: seat 07's phone (baresip, auto-answer) is logged in, a citizen calls 12345 and is
answered; the fault begins; 2 s later the citizen hangs up (during the fault; a restart ends
the call itself); the fault ends. "Converged in" runs from the end of the fault until the
bridge's seat picture equals Asterisk's own answers (QueueStatus, CoreShowChannels,
PJSIPShowContacts, DeviceStateList, as tests/integration/harness.py compares them) and no seat
is marked stale. Records: the answered call must be in the store exactly once, and its talk time
within 2 s of what Asterisk reported for the seat's channel (CoreShowChannels Duration) just
before it ended.

Faults: AMI link cut for N s (the proxy process in front of AMI is killed, which resets both
sides, and started again on the same port after N s), AMI link frozen for N s (the proxy is
SIGSTOPped: no FIN, only the keep-alive can tell), the service SIGKILLed (the call ends while
it is down) and started again, Asterisk restarted. Not covered yet: PostgreSQL restarted under
the service (the bench's service uses SQLite; the shared server must not be restarted).

The last line is exactly:

    faults=N converged_max_s=X records_lost=L records_duplicated=D wrong_times=W
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hotline.auth import Role
from hotline.config import load_config
from hotline.config.ini import write_overrides
from hotline.db import make_engine, make_session_factory
from telephony.ami import AmiClient
from telephony.models import OUTCOME_ANSWERED, CallRecord
from telephony.monitor import snapshot
from tests.hall_pbx import HallPbx, instance_name, start_hall_pbx
from tests.integration.frozen_proxy import FrozenProxy
from tests.integration.harness import (
    Api,
    asterisk_picture,
    bridge_picture,
    call_hotline,
    citizen_channels,
    harness_client,
    seat_phone,
    wait_for,
)
from tests.service_process import ServiceProcess

SEAT = "07"
ENTRY_S = 60.0
TALK_BEFORE_HANGUP_S = 2.0
CONVERGE_LIMIT_S = 120.0
RECORD_WAIT_S = 10.0
TIME_TOLERANCE_S = 2


@dataclass
class Rig:
    pbx: HallPbx
    service: ServiceProcess
    proxy: FrozenProxy
    ami: AmiClient
    api: Api
    work: Path


@dataclass
class Row:
    fault: str
    converged_s: float | None
    lost: int
    duplicated: int
    wrong_times: int
    detail: str


def duration_s(text: str | None) -> int | None:
    """CoreShowChannels Duration "HH:MM:SS" in seconds."""
    try:
        hours, minutes, seconds = (int(part) for part in (text or "").split(":"))
    except ValueError:
        return None
    return hours * 3600 + minutes * 60 + seconds


async def seat_talk_s(rig: Rig) -> int | None:
    """How long Asterisk says the seat's phone channel has been up."""
    extension = rig.service.config.seat(SEAT).extension  # type: ignore[union-attr]
    for event in await snapshot(rig.ami, "CoreShowChannels"):
        if (event.get("Channel") or "").startswith(f"PJSIP/{extension}-"):
            return duration_s(event.get("Duration"))
    return None


async def hang_up_citizen(rig: Rig, number: str) -> int | None:
    talk = await seat_talk_s(rig)
    for channel in await citizen_channels(rig.ami, number):
        await rig.ami.send_action("Hangup", Channel=channel)
    return talk


async def converged(rig: Rig) -> tuple[float | None, str]:
    """Seconds until the bridge's picture equals Asterisk's and is not stale (None: never), and
    what differed last before that (to say where the time went)."""
    started = time.monotonic()
    config = rig.service.config
    last = ""
    while time.monotonic() - started < CONVERGE_LIMIT_S:
        try:
            seats = await rig.api.get("/api/seats")
            ours, theirs = bridge_picture(seats), await asterisk_picture(rig.ami, config)
            stale = any(s["stale"] for s in seats)
            if not stale and ours == theirs:
                return time.monotonic() - started, last
            differing = {k: (ours.get(k), v) for k, v in theirs.items() if ours.get(k) != v}
            last = "stale" if stale else f"bridge/Asterisk {differing}"
        except Exception as exc:  # the service may still be reconnecting
            last = f"{type(exc).__name__}"
        await asyncio.sleep(0.2)
    return None, last


def records_of(rig: Rig, number: str) -> list[CallRecord]:
    engine = make_engine(rig.service.config.database.url)
    try:
        with make_session_factory(engine)() as session:
            return list(session.scalars(select(CallRecord).where(
                CallRecord.citizen_number == number, CallRecord.outcome == OUTCOME_ANSWERED)))
    finally:
        engine.dispose()


# Faults: each returns Asterisk's talk time of the call it ended, once the fault is over ------
def cut(seconds: float) -> Callable[[Rig, str], Awaitable[int | None]]:
    async def run(rig: Rig, number: str) -> int | None:
        port = rig.proxy.port
        rig.proxy.stop()
        await asyncio.sleep(min(TALK_BEFORE_HANGUP_S, seconds / 2))
        talk = await hang_up_citizen(rig, number)
        await asyncio.sleep(max(0.0, seconds - min(TALK_BEFORE_HANGUP_S, seconds / 2)))
        rig.proxy = FrozenProxy.start(rig.pbx.config.ami.host, rig.pbx.config.ami.port, port=port)
        return talk
    return run


def freeze(seconds: float) -> Callable[[Rig, str], Awaitable[int | None]]:
    async def run(rig: Rig, number: str) -> int | None:
        rig.proxy.freeze()
        await asyncio.sleep(min(TALK_BEFORE_HANGUP_S, seconds / 2))
        talk = await hang_up_citizen(rig, number)
        await asyncio.sleep(max(0.0, seconds - min(TALK_BEFORE_HANGUP_S, seconds / 2)))
        rig.proxy.thaw()
        return talk
    return run


async def kill_service(rig: Rig, number: str) -> int | None:
    """kill -9 of `hotline serve`; the citizen hangs up while it is down; it is started again."""
    await asyncio.sleep(TALK_BEFORE_HANGUP_S)
    rig.service.stop(kill=True)
    talk = await hang_up_citizen(rig, number)
    await asyncio.sleep(TALK_BEFORE_HANGUP_S)
    await rig.service.start()
    return talk


async def restart(rig: Rig, number: str) -> int | None:
    await asyncio.sleep(TALK_BEFORE_HANGUP_S)
    talk = await seat_talk_s(rig)
    await rig.ami.stop()
    await asyncio.to_thread(rig.pbx.pbx.restart)
    rig.ami = await harness_client(rig.pbx.config)
    return talk


async def run_row(rig: Rig, name: str, fault: Callable[[Rig, str], Awaitable[int | None]],
                  index: int) -> Row:
    number = f"139000{index:05d}"
    rig.pbx.reset()
    await rig.api.wait_state(SEAT, "logged_out", ENTRY_S)
    login = await rig.api.post(f"/api/seats/{SEAT}/login")
    assert login.status_code == 200, login.text
    await call_hotline(rig.ami, rig.pbx.config, number)
    await rig.api.wait_state(SEAT, "on_call", ENTRY_S)
    talk = await fault(rig, number)
    converged_s, differed = await converged(rig)

    async def stored() -> list[CallRecord]:
        return await asyncio.to_thread(records_of, rig, number)

    try:
        rows = await wait_for(stored, RECORD_WAIT_S, "the call's record")
    except AssertionError:
        rows = []
    wrong = [r.talk_seconds for r in rows if talk is None or r.talk_seconds is None
             or abs(r.talk_seconds - talk) > TIME_TOLERANCE_S]
    detail = f"Asterisk talk {talk} s, stored {[r.talk_seconds for r in rows]}"
    if differed:
        detail += f"; until then: {differed[:200]}"
    return Row(name, converged_s, 0 if rows else 1, max(0, len(rows) - 1), len(wrong), detail)


async def open_rig(work: Path) -> Rig:
    pbx = start_hall_pbx(instance_name("faults"), work / "pbx", {"queue.wrapup_seconds": "2"})
    proxy = FrozenProxy.start(pbx.config.ami.host, pbx.config.ami.port)
    service_dir = work / "service"
    service_dir.mkdir()
    shutil.copy(pbx.workdir / "hotline.conf", service_dir / "hotline.conf")
    shutil.copy(pbx.workdir / "hotline.secrets", service_dir / "hotline.secrets")
    write_overrides(service_dir / "hotline.conf", {"ami.port": str(proxy.port),
                                                    "database.url": f"sqlite:///{service_dir}/svc.db"})
    service = ServiceProcess(load_config(service_dir / "hotline.conf"), work / "serve.log")
    await service.start()
    ami = await harness_client(pbx.config)
    return Rig(pbx, service, proxy, ami, Api(service.base_url, service.headers(Role.OPERATOR)), work)


def plan(args: argparse.Namespace) -> list[tuple[str, Callable[[Rig, str], Awaitable[int | None]]]]:
    faults = [(f"AMI 断开 {s:g} 秒", cut(s)) for s in args.cuts]
    faults.append((f"AMI 冻结 {args.freeze:g} 秒（SIGSTOP，无 FIN）", freeze(args.freeze)))
    faults.append(("服务被 kill -9 后重启", kill_service))
    if args.restart:
        faults.append(("Asterisk 重启", restart))
    return faults


def print_table(rows: list[Row]) -> None:
    print(f"{'故障':<28}{'收敛用时':>10}{'记录丢失':>10}{'记录重复':>10}{'时间错误':>10}  明细")
    for row in rows:
        took = f"{row.converged_s:.1f} s" if row.converged_s is not None else "未收敛"
        print(f"{row.fault:<28}{took:>10}{row.lost:>10}{row.duplicated:>10}{row.wrong_times:>10}"
              f"  {row.detail}")
    worst = max((r.converged_s for r in rows if r.converged_s is not None), default=0.0)
    never = sum(1 for r in rows if r.converged_s is None)
    print(f"faults={len(rows)} converged_max_s={worst:.1f}{'+never' if never else ''} "
          f"records_lost={sum(r.lost for r in rows)} records_duplicated={sum(r.duplicated for r in rows)} "
          f"wrong_times={sum(r.wrong_times for r in rows)}")


async def main(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="hotline-faults-"))
    rig = await open_rig(work)
    rows: list[Row] = []
    try:
        async with seat_phone(rig.service.config, SEAT, work / "phones", auto_answer=True):
            for index, (name, fault) in enumerate(plan(args)):
                rows.append(await run_row(rig, name, fault, index))
                print(f"  {name}: done", file=sys.stderr)
    finally:
        rig.service.stop()
        await rig.ami.stop()
        rig.proxy.stop()
        rig.pbx.stop()
        shutil.rmtree(work, ignore_errors=True)
    print_table(rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuts", type=lambda text: [float(s) for s in text.split(",")],
                        default=[1.0, 5.0, 20.0, 60.0], help="lengths of the AMI cuts, seconds")
    parser.add_argument("--freeze", type=float, default=10.0, help="length of the frozen link, seconds")
    parser.add_argument("--no-restart", dest="restart", action="store_false",
                        help="leave out the Asterisk restart")
    asyncio.run(main(parser.parse_args()))

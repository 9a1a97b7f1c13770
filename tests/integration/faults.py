"""The fault suite: break the service's world while calls are in progress, then check the books.

Each fault runs against a sandbox Asterisk with real baresip seat phones and a fresh `hotline
serve` that reaches AMI through a proxy the suite can cut, refuse or freeze. Two citizens are
talking to seats 01 and 02 when the fault strikes; during it one of them hangs up and a third
citizen leaves a voicemail. After the fault the suite measures how long the service takes to
agree with Asterisk again, then compares what it stored with what Asterisk said (a second AMI
session of the suite's own, never cut): every answered call recorded once, with Asterisk's end
time and talk time (within TIME_TOLERANCE_S), every voicemail registered once.

`tests/integration/test_faults.py` asserts it; `python bench/faults.py` prints the table.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hotline.auth import Role
from hotline.config import HotlineConfig, load_config
from hotline.db import make_engine, make_session_factory
from telephony.ami import AmiClient
from telephony.models import OUTCOME_ANSWERED, CallRecord
from tests.hall_pbx import HallPbx, write_overrides
from tests.integration.harness import (
    Api,
    asterisk_picture,
    bridge_picture,
    call_hotline,
    citizen_channels,
    harness_client,
    seat_phone,
)
from tests.integration.live_service import SHORT_PROMPTS
from tests.integration.private_postgres import PrivatePostgres
from tests.service_process import ServiceProcess, TcpProxy
from voicemail.models import Voicemail

FAULT_PBX_OVERRIDES = {**SHORT_PROMPTS, "queue.wrapup_seconds": "2"}
SEATS = ("01", "02")
NIGHT = "2026-11-25T22:00:00"  # a Wednesday night: closed, the caller is sent to voicemail
TIME_TOLERANCE_S = 2.0
CONVERGE_LIMIT_S = 90.0
ANSWER_TIMEOUT_S = 40.0
SETTLE_S = 25.0
TALK_BEFORE_FAULT_S = 2.0
VOICEMAIL_HOLD_S = 12  # the night caller stays on the line this long: prompts, beep, message
POLL_S = 0.2
CITIZEN_CHANNEL = "Local/12345@hotline-entry"  # the suite's citizens (harness.call_hotline)


@dataclass(frozen=True)
class Fault:
    name: str
    kind: str  # cut | freeze | asterisk | kill | postgres
    seconds: float = 0.0


FAULTS: tuple[Fault, ...] = (
    Fault("AMI 断开 1 s", "cut", 1), Fault("AMI 断开 5 s", "cut", 5),
    Fault("AMI 断开 20 s", "cut", 20), Fault("AMI 断开 60 s", "cut", 60),
    Fault("AMI 冻结 15 s（无 FIN）", "freeze", 15), Fault("Asterisk 重启", "asterisk"),
    Fault("服务 SIGKILL", "kill", 5), Fault("PostgreSQL 重启", "postgres", 5),
)


@dataclass
class Outcome:
    """One row of the table."""

    fault: Fault
    detected_s: float | None = None  # AMI faults: from the strike until health said disconnected
    converged_s: float | None = None
    lost: int = 0
    duplicated: int = 0
    wrong_times: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        detected = self.detected_s is not None or self.fault.kind not in ("cut", "freeze")
        return (detected and self.converged_s is not None and not self.lost and not self.problems
                and not self.duplicated and not self.wrong_times)


@dataclass
class TalkTruth:
    """An answered call as Asterisk reported it to the suite's own AMI session."""

    linkedid: str
    seat_id: str
    connected_at: datetime
    ended_at: datetime | None = None
    talk_s: int | None = None


class Truth:
    """Collects AgentConnect/AgentComplete from the suite's own, never-cut AMI session."""

    def __init__(self) -> None:
        self.calls: dict[tuple[str, str], TalkTruth] = {}

    def on_event(self, message: Any) -> None:
        name, now = message.get("Event"), datetime.now(UTC)
        key = (message.get("Linkedid") or message.get("Uniqueid", ""), message.get("MemberName", ""))
        if name == "AgentConnect":
            self.calls.setdefault(key, TalkTruth(key[0], key[1], now))
        elif name == "AgentComplete" and key in self.calls:
            self.calls[key].ended_at = now
            self.calls[key].talk_s = int(message.get("TalkTime") or 0)
        elif name == "Hangup" and message.get("Channel", "").startswith(CITIZEN_CHANNEL):
            self._hung_up(message.get("Linkedid", ""), now)

    def _hung_up(self, linkedid: str, now: datetime) -> None:
        """The citizen's channel hung up: the call's end, should AgentComplete not follow (it
        was missing once in a few dozen runs). Only the citizen's Local channel counts: the
        seat's Local member channel hangs up mid-call when Asterisk optimises it away."""
        for call in self.calls.values():
            if call.linkedid == linkedid and call.ended_at is None:
                call.ended_at = now
                call.talk_s = round((now - call.connected_at).total_seconds())

    def end_all_now(self, at: datetime) -> None:
        """An Asterisk restart ends every call without AgentComplete: they ended at `at`."""
        for call in self.calls.values():
            if call.ended_at is None:
                call.ended_at = at
                call.talk_s = int((at - call.connected_at).total_seconds())


class FreezableProxy(TcpProxy):
    """The AMI proxy, able also to refuse new connections and to stop forwarding (no FIN)."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.refusing = False
        self.frozen = asyncio.Event()
        self.frozen.set()  # set = flowing

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    kept: bytearray) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                await self.frozen.wait()
                kept += data
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            writer.transport.abort()
            return
        await super()._handle(reader, writer)

    def freeze(self) -> None:
        self.frozen.clear()

    def thaw(self) -> None:
        self.frozen.set()


@dataclass
class Stage:
    """A PBX, the proxy in front of its AMI, the service behind it, and the suite's own view."""

    pbx: HallPbx
    proxy: FreezableProxy
    service: ServiceProcess
    config: HotlineConfig
    ami: AmiClient
    api: Api
    work: Path
    truth: Truth
    postgres: PrivatePostgres | None = None
    disconnected_at: float = 0.0

    async def picture_agrees(self) -> bool:
        try:
            health = await self.api.get("/api/health")
            if not health["ami"]["connected"] or health["ami"]["stale_since"] is not None:
                return False  # a picture right only by luck of the events is not converged
            ours = bridge_picture(await self.api.get("/api/seats"))
        except Exception:  # the service may be down or restarting: not yet
            return False
        return ours == await asterisk_picture(self.ami, self.pbx.config)


def _service_config(pbx: HallPbx, folder: Path, ami_port: int, database_url: str) -> HotlineConfig:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(pbx.workdir / "hotline.conf", folder / "hotline.conf")
    shutil.copy(pbx.workdir / "hotline.secrets", folder / "hotline.secrets")
    shutil.copy(pbx.workdir / "remit.conf", folder / "remit.conf")
    write_overrides(folder / "hotline.conf", {"ami.port": str(ami_port), "database.url": database_url})
    return load_config(folder / "hotline.conf")


@contextlib.asynccontextmanager
async def stage(pbx: HallPbx, work: Path, fault: Fault) -> AsyncIterator[Stage]:
    """A fresh service (own database; a private PostgreSQL for the PostgreSQL fault)."""
    pbx.reset()
    proxy = FreezableProxy(pbx.config.ami.host, pbx.config.ami.port)
    await proxy.start()
    postgres = PrivatePostgres() if fault.kind == "postgres" else None
    url = postgres.start() if postgres else f"sqlite:///{work / 'service' / 'hotline.db'}"
    config = _service_config(pbx, work / "service", proxy.port, url)
    service = ServiceProcess(config, work / "serve.log")
    ami = await harness_client(pbx.config)
    truth = Truth()
    ami.add_listener(truth.on_event, ["AgentConnect", "AgentComplete", "Hangup"])
    try:
        await service.start()
        yield Stage(pbx, proxy, service, config, ami, Api(service.base_url, service.headers(Role.ADMIN)),
                    work, truth, postgres)
    finally:
        service.stop()
        await ami.stop()
        await proxy.stop()
        if postgres:
            postgres.stop()
        pbx.reset()


async def _until(predicate: Callable[[], Any], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(POLL_S)
    return False


async def _calls_answered(run: Stage, count: int) -> None:
    async def answered() -> bool:
        return len(run.truth.calls) >= count
    if not await _until(answered, ANSWER_TIMEOUT_S):
        raise AssertionError(f"only {len(run.truth.calls)} of {count} calls were answered")


async def _hang_up(run: Stage, number: str) -> None:
    for channel in await citizen_channels(run.ami, number):
        await run.ami.send_action("Hangup", Channel=channel)


async def _disconnected(run: Stage) -> bool:
    """Health says the AMI link is down (remembered with the time it was first seen)."""
    try:
        health = await run.api.get("/api/health")
    except Exception:  # the service itself is down: not what this watches
        return False
    if health["ami"]["connected"]:
        return False
    run.disconnected_at = time.monotonic()
    return True


async def _strike(run: Stage, fault: Fault, during: Callable[[], Any]) -> float:
    """Apply the fault, let `during` happen while it lasts, lift it; monotonic time lifted."""
    if fault.kind == "cut":
        run.proxy.refusing = True
        run.proxy.cut()
        await during()
        await asyncio.sleep(fault.seconds)
        run.proxy.refusing = False
    elif fault.kind == "freeze":
        run.proxy.freeze()
        await during()
        await asyncio.sleep(fault.seconds)
        run.proxy.thaw()
    elif fault.kind == "asterisk":
        await run.ami.stop()
        restarted_at = datetime.now(UTC)
        await asyncio.to_thread(run.pbx.pbx.restart)
        run.truth.end_all_now(restarted_at)
        run.ami = await harness_client(run.pbx.config)
        run.ami.add_listener(run.truth.on_event, ["AgentConnect", "AgentComplete", "Hangup"])
        await during()
    elif fault.kind == "kill":
        run.service.stop(kill=True)
        await during()
        await asyncio.sleep(fault.seconds)
        run.service.start_background()
    elif fault.kind == "postgres":
        assert run.postgres is not None
        await asyncio.to_thread(run.postgres.pause)
        await during()
        await asyncio.sleep(fault.seconds)
        await asyncio.to_thread(run.postgres.resume)
    return time.monotonic()


async def run_fault(pbx: HallPbx, work: Path, fault: Fault) -> Outcome:
    """One fault from start to books; never raises for what it measures (see Outcome)."""
    outcome = Outcome(fault)
    night_number = f"1390000{int(time.time()) % 10000:04d}"
    async with stage(pbx, work, fault) as run, \
            seat_phone(run.config, SEATS[0], work / "phones", auto_answer=True), \
            seat_phone(run.config, SEATS[1], work / "phones", auto_answer=True):
        for seat in SEATS:
            response = await run.api.post(f"/api/seats/{seat}/login")
            assert response.status_code == 200, response.text
        for number in ("13700000101", "13700000102"):
            await call_hotline(run.ami, run.pbx.config, number)
        await _calls_answered(run, 2)
        await asyncio.sleep(TALK_BEFORE_FAULT_S)

        async def during() -> None:
            await _hang_up(run, "13700000101")
            await call_hotline(run.ami, run.pbx.config, night_number, at=NIGHT,
                               seconds=VOICEMAIL_HOLD_S)

        struck = time.monotonic()
        watcher = asyncio.create_task(_until(lambda: _disconnected(run), CONVERGE_LIMIT_S))
        lifted = await _strike(run, fault, during)
        if watcher.done() and watcher.result():
            outcome.detected_s = round(run.disconnected_at - struck, 1)
        else:
            watcher.cancel()
            if fault.kind in ("cut", "freeze"):
                outcome.problems.append("故障期间健康检查未显示 AMI 断开")
        if await _until(run.picture_agrees, CONVERGE_LIMIT_S):
            outcome.converged_s = round(time.monotonic() - lifted, 1)
        else:
            outcome.problems.append("画面未与 Asterisk 一致")
        await _hang_up(run, "13700000102")
        await asyncio.sleep(VOICEMAIL_HOLD_S)
        await _until(lambda: _books_settled(run, night_number), SETTLE_S)
        _check_books(run, night_number, outcome)
    return outcome


def _stored(run: Stage, night_number: str) -> tuple[list[CallRecord], list[Voicemail]]:
    engine = make_engine(run.config.database.url)
    try:
        with make_session_factory(engine)() as session:
            calls = list(session.scalars(select(CallRecord).where(
                CallRecord.outcome == OUTCOME_ANSWERED)))
            messages = list(session.scalars(select(Voicemail).where(
                Voicemail.caller_num == night_number)))
            session.expunge_all()
            return calls, messages
    finally:
        engine.dispose()


async def _books_settled(run: Stage, night_number: str) -> bool:
    try:
        calls, messages = await asyncio.to_thread(_stored, run, night_number)
    except Exception:  # the database may still be coming back
        return False
    truths = run.truth.calls.values()
    expected = {call.linkedid for call in truths}
    return (all(call.ended_at is not None for call in truths)
            and {c.linkedid for c in calls} >= expected and len(messages) >= 1)


def _check_books(run: Stage, night_number: str, outcome: Outcome) -> None:
    calls, messages = _stored(run, night_number)
    for truth in run.truth.calls.values():
        rows = [c for c in calls if c.linkedid == truth.linkedid and c.seat_id == truth.seat_id]
        if not rows:
            outcome.lost += 1
            outcome.problems.append(f"通话 {truth.linkedid}（坐席 {truth.seat_id}）未记录")
            continue
        outcome.duplicated += len(rows) - 1
        row = rows[0]
        if truth.ended_at is None:
            outcome.problems.append(f"Asterisk 未报告通话 {truth.linkedid} 结束（AgentComplete）")
            continue
        if row.ended_at is None or truth.talk_s is None or \
                abs((row.ended_at - truth.ended_at).total_seconds()) > TIME_TOLERANCE_S or \
                abs((row.talk_seconds or 0) - truth.talk_s) > TIME_TOLERANCE_S:
            outcome.wrong_times += 1
            outcome.problems.append(
                f"通话 {truth.linkedid} 时间不符：记录结束 {row.ended_at}、通话 {row.talk_seconds} s；"
                f"Asterisk 结束 {truth.ended_at}、通话 {truth.talk_s} s")
    if not messages:
        outcome.lost += 1
        outcome.problems.append("故障期间的留言未登记")
    outcome.duplicated += max(0, len(messages) - 1)


def table(outcomes: list[Outcome]) -> str:
    """The fault table, one row a fault."""
    head = f"{'故障':<24}{'发现(s)':>8}{'收敛(s)':>8}{'丢失':>6}{'重复':>6}{'时间错误':>8}"
    rows = [head]
    for o in outcomes:
        converged = f"{o.converged_s:.1f}" if o.converged_s is not None else "未收敛"
        detected = f"{o.detected_s:.1f}" if o.detected_s is not None else "-"
        rows.append(f"{o.fault.name:<24}{detected:>8}{converged:>8}{o.lost:>6}{o.duplicated:>6}"
                    f"{o.wrong_times:>8}")
    return "\n".join(rows)

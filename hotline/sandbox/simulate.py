"""The traffic engine of `hotline sandbox simulate`: demo calls through a running sandbox PBX.

Seat and expert phones are baresip processes that register, ring, answer after a moment, talk
and hang up; citizens are short-lived baresip phones on endpoints the simulation adds to the
sandbox (pjsip_local.conf, each endpoint with its clock forced to a day or an evening, so a call
is "daytime" or "after hours" whatever the real time is). Seats are logged in and paused, and
three-way calls started, through the running service's API with a token the simulation makes
for itself and revokes when it stops. What to do and when comes from simulate_plan (pure), the
talking to the service, the PBX and the phones from simulate_io; this module runs the show and
cleans up every phone, file and token it made, also on errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import random
import secrets
import shutil
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

from hotline.config import HotlineConfig
from hotline.phones import BaresipPhone, PhoneError, PhonePorts, audio
from hotline.sandbox import simulate_plan as plan
from hotline.sandbox.instance import SandboxPbx
from hotline.sandbox.simulate_io import (
    CLOSE_WAIT_S,
    SERVICE_POLL_S,
    CitizenEndpoints,
    ServiceApi,
    SimulationError,
    StoreToken,
    Voices,
    closed_already,
    describe,
    first_line,
    hang_up,
    wait_closed,
)
from hotline.sandbox.simulate_plan import CallKind, Citizen, PlannedCall, SeatRole
from hotline.tasks import cancel_and_wait
from ivr.names import ENTRY_NUMBER, SOUND_DIR
from ivr.pjsip import LOCAL_INCLUDE

KIND_ZH = {CallKind.DAYTIME: "白天来电", CallKind.AFTER_HOURS: "夜间留言"}

AMI_WAIT_S = 20.0
PHONE_START_PARALLEL = 4  # baresip start-ups at once: two cores, and sox runs in each
DAY_CITIZENS = 24
NIGHT_CITIZENS = 8
SEAT_SOURCE_S = 400.0  # what a seat phone sends in one call: longer than any conversation
CITIZEN_SOURCE_S = 600.0  # a daytime caller's audio: prompts, queue, talk, three-way
SILENT_CALLER_SHARE = 0.2  # callers who say nothing (silence), the rest speak a sentence
CALL_SETTLE_S = 30.0  # grace beyond a call's planned length before it is hung up anyway
SEAT_VIEW_WAIT_S = 5.0  # for the service to show the answered call on the seat
EXPERT_CALL_MAX_S = 600.0
ANSWERED_CALL_MAX_S = 600.0  # once a seat answered, the citizen waits this long at most
SESSION_SETTLE_S = 15.0  # beyond the experts' ring time, for a three-way call to connect
IDLE_WAIT_S = 3600.0
VOICEMAIL_WAIT_S = 60.0
SEATS_IDLE_WAIT_S = 30.0
WATCH_INTERVAL_S = 5.0
WATCH_FAILURES = 3


@dataclass(frozen=True)
class SimulationOptions:
    seats: int = 12
    rate: float = 3.0  # calls per minute
    duration: float | None = None  # seconds; None: until Ctrl-C / SIGTERM
    once: bool = False
    once_calls: int = 3
    once_messages: int = 2
    seed: int | None = None
    fast: bool = False
    api_url: str = "http://127.0.0.1:8345"
    max_calls: int = 8  # citizen phones at once
    wait_service: float = 0.0
    work_dir: Path | None = None


@dataclass
class Summary:
    """What happened, for the closing lines and the exit status of `--once`."""

    placed: int = 0
    answered: int = 0
    abandoned: int = 0
    skipped: int = 0
    threeway_planned: int = 0
    threeway_started: int = 0
    threeway_connected: int = 0
    threeway_skipped: int = 0
    messages_left: int = 0
    messages_registered: int | None = None
    errors: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        registered = "?" if self.messages_registered is None else str(self.messages_registered)
        lines = [f"白天来电 {self.placed} 通：接听 {self.answered}，放弃 {self.abandoned}，"
                 f"线路忙跳过 {self.skipped}",
                 f"三方通话：发起 {self.threeway_started}，接通 {self.threeway_connected}，"
                 f"跳过 {self.threeway_skipped}",
                 f"夜间留言：留下 {self.messages_left}，已登记 {registered}"]
        lines += [f"错误：{error}" for error in self.errors]
        return lines


class Reporter:
    """One short, timestamped line per action."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def say(self, text: str) -> None:
        print(f"{datetime.now():%H:%M:%S} {text}", file=self.out, flush=True)


# --- one citizen call -----------------------------------------------------------------------------

@dataclass
class CitizenCall:
    citizen: Citizen
    planned: PlannedCall
    answered: asyncio.Event = field(default_factory=asyncio.Event)


# --- the simulation -------------------------------------------------------------------------------

class Simulation:
    """Set up phones, endpoints and seats; run the traffic; tear everything down again."""

    def __init__(self, config: HotlineConfig, pbx: SandboxPbx, options: SimulationOptions,
                 out: TextIO = sys.stdout) -> None:
        self.config = config
        self.pbx = pbx
        self.options = options
        self.report = Reporter(out)
        self.summary = Summary()
        self.timing = plan.Timing.fast() if options.fast else plan.Timing.normal()
        seed = options.seed if options.seed is not None else secrets.randbits(32)
        self.seed = seed
        self.rng_plan = random.Random(f"{seed}-plan")
        self.rng_people = random.Random(f"{seed}-people")
        self.rng_calls = random.Random(f"{seed}-calls")
        self._spoke: set[str] = set()  # night callers who left a spoken message (may repeat it)
        self.api = ServiceApi(options.api_url)
        self.token = StoreToken(config)
        self.endpoints = CitizenEndpoints(pbx)
        self._own_work = options.work_dir is None
        self.work = Path(options.work_dir or tempfile.mkdtemp(prefix="hotline-simulate-"))
        self.stopping = asyncio.Event()
        self.seat_phones: dict[str, BaresipPhone] = {}
        self.expert_phones: dict[str, BaresipPhone] = {}
        self.roster: dict[str, plan.SeatPlan] = {}
        self.logged_in: set[str] = set()
        self.citizens: list[Citizen] = []
        self.citizen_password = secrets.token_hex(12)
        self.idle_citizens: dict[CallKind, list[Citizen]] = {kind: [] for kind in CallKind}
        self.active_calls: dict[str, CitizenCall] = {}  # by citizen number
        self.lines: asyncio.Queue[PhonePorts] = asyncio.Queue()
        self.voices: Voices | None = None
        self.operator_audio: Path | None = None
        self.sip_host = config.sip.bind
        self.sip_port = config.sip.port
        self.kinds: set[CallKind] = set()
        self.busy_seats = 0
        self.threeway_busy = False
        self.traffic_started = False
        self.voicemail_baseline = 0
        self._call_number = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._answerers: list[asyncio.Task[None]] = []

    def request_stop(self) -> None:
        if not self.stopping.is_set():
            self.report.say("收到停止信号：挂断所有通话，清理中……")
            self.stopping.set()

    # ----- the whole run ------------------------------------------------------------------------

    async def run(self) -> Summary:
        try:
            await self._setup()
            if self.options.once:
                await self._run_once()
            else:
                await self._run_continuous()
        except SimulationError as exc:
            self.summary.errors.append(str(exc))
            self.report.say(f"停止：{exc}")
            print(f"hotline sandbox simulate：{exc}", file=sys.stderr, flush=True)
        finally:
            await self._teardown()
        return self.summary

    # ----- setting up ---------------------------------------------------------------------------

    async def _setup(self) -> None:
        status = self.pbx.status()
        if not status.running:
            raise SimulationError(f"沙箱 {self.pbx.name} 没有运行：请先用 hotline sandbox up"
                                  "（或 ./run demo）启动")
        if status.sip is not None:
            self.sip_host, self.sip_port = status.sip.bind, status.sip.port
        self.report.say(f"模拟开始：沙盒 {self.pbx.name}，服务 {self.api.base_url}，随机种子 {self.seed}")
        await self.api.wait_answering(self.options.wait_service, self.stopping)
        self.api.use_token(await asyncio.to_thread(self.token.create))
        me = await self.api.request("GET", "/api/me")
        if me.status_code != httpx.codes.OK:
            raise SimulationError(f"{self.api.base_url} 的服务拒绝了模拟程序的令牌（{describe(me)}）："
                                  f"它用的是 {self.config.path} 的数据库吗？")
        await self._wait_ami()
        self._plan_citizens()
        await asyncio.to_thread(self.endpoints.install, plan.pjsip_local_text(
            self.citizens, self.citizen_password, self._epochs(), os.getpid()))
        self.report.say(f"沙盒里加了 {len(self.citizens)} 位市民的话机（{LOCAL_INCLUDE}）")
        self.voices = Voices(self.work, self.pbx.rendered_dir / "sounds" / SOUND_DIR)
        self.operator_audio = await self.voices.operator()
        for _ in range(self.options.max_calls):
            self.lines.put_nowait(PhonePorts.allocate())
        await self._start_seats()
        await self._start_experts()
        await self._apply_roster()
        page = await self.api.get("/api/voicemails?limit=1")
        self.voicemail_baseline = int(page["total"])
        self.traffic_started = True

    async def _wait_ami(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(AMI_WAIT_S, self.options.wait_service)
        while True:
            health = await self.api.get("/api/health")
            if health.get("ami", {}).get("connected"):
                return
            if loop.time() >= deadline or self.stopping.is_set():
                raise SimulationError("服务没有连上交换机（AMI）："
                                      f"{health.get('ami', {}).get('last_error')}")
            await asyncio.sleep(SERVICE_POLL_S)

    def _epochs(self) -> dict[CallKind, int]:
        today = self.config.local_now().date()
        hours, tz = self.config.hours, self.config.hall.tz
        moments = {CallKind.DAYTIME: plan.daytime_moment(hours, tz, today),
                   CallKind.AFTER_HOURS: plan.after_hours_moment(hours, tz, today)}
        self.kinds = {kind for kind, moment in moments.items() if moment is not None}
        if not self.kinds:
            raise SimulationError("hotline.conf 的工作时间在 10:00 从不上班、在 20:00 也从不下班："
                                  "无法模拟任何来电")
        if CallKind.AFTER_HOURS not in self.kinds:
            self.report.say("全天有人值守（night_shift）：不模拟夜间留言")
        if self.options.once:
            needed = {CallKind.DAYTIME} if self.options.once_calls else set()
            needed |= {CallKind.AFTER_HOURS} if self.options.once_messages else set()
            missing = needed - self.kinds
            if missing:
                raise SimulationError("hotline.conf 的工作时间不允许"
                                      + "或".join(KIND_ZH[k] for k in missing))
        return {kind: int(moment.timestamp()) if moment else 0 for kind, moment in moments.items()}

    def _plan_citizens(self) -> None:
        day = max(DAY_CITIZENS, self.options.once_calls if self.options.once else 0)
        night = max(NIGHT_CITIZENS, self.options.once_messages if self.options.once else 0)
        self.citizens = plan.citizen_pool(self.rng_plan, day, night)
        for citizen in self.citizens:
            self.idle_citizens[citizen.kind].append(citizen)

    async def _start_phones(self, phones: dict[str, BaresipPhone], label: Callable[[str], str]) -> None:
        gate = asyncio.Semaphore(PHONE_START_PARALLEL)

        async def start(key: str, phone: BaresipPhone) -> None:
            async with gate:
                try:
                    await phone.start()
                except PhoneError as exc:
                    phones.pop(key, None)
                    self._error(f"{label(key)} 的话机没能注册：{first_line(exc)}")

        await asyncio.gather(*(start(key, phone) for key, phone in list(phones.items())))

    async def _start_seats(self) -> None:
        chosen = sorted(self.config.seats, key=lambda s: s.seat_id)[:self.options.seats]
        for seat in chosen:
            if not seat.password:
                self._error(f"坐席{seat.seat_id} 没有 SIP 密码（hotline.secrets [seat-passwords]）")
                continue
            self.seat_phones[seat.seat_id] = BaresipPhone(
                f"seat{seat.seat_id}", server_host=self.sip_host, server_port=self.sip_port,
                username=seat.extension, password=seat.password, work_dir=self.work / "phones",
                audio_source=self.operator_audio, source_seconds=SEAT_SOURCE_S, record=False)
        await self._start_phones(self.seat_phones, lambda key: f"坐席{key}")
        if not self.seat_phones:
            raise SimulationError("没有一部坐席话机能在沙箱交换机上注册")
        self.report.say(f"{len(self.seat_phones)} 部坐席话机已注册："
                        + " ".join(sorted(self.seat_phones)))
        for seat_id, phone in self.seat_phones.items():
            self._answerers.append(asyncio.create_task(
                self._answer_loop(phone, f"坐席{seat_id}", functools.partial(self._seat_call, seat_id)),
                name=f"simulate-seat-{seat_id}"))

    async def _start_experts(self) -> None:
        for expert in self.config.experts:
            if expert.extension and expert.password:
                self.expert_phones[expert.extension] = BaresipPhone(
                    f"expert{expert.extension}", server_host=self.sip_host,
                    server_port=self.sip_port, username=expert.extension,
                    password=expert.password, work_dir=self.work / "phones", record=False,
                    source_seconds=SEAT_SOURCE_S)
        names = {e.extension: e.name for e in self.config.experts if e.extension}
        await self._start_phones(self.expert_phones, lambda key: f"专家{names.get(key, key)}")
        if self.expert_phones:
            self.report.say("专家话机已注册：" + "、".join(
                f"{names[ext]}（{ext}）" for ext in sorted(self.expert_phones)))
        for extension, phone in self.expert_phones.items():
            label = f"专家{names[extension]}"
            self._answerers.append(asyncio.create_task(
                self._answer_loop(phone, label, functools.partial(self._expert_call, phone, label)),
                name=f"simulate-expert-{extension}"))

    async def _apply_roster(self) -> None:
        roster = plan.plan_roster(sorted(self.seat_phones), self.rng_plan)
        for seat in roster:
            self.roster[seat.seat_id] = seat
            if seat.role is SeatRole.LOGGED_OUT:
                await self._seat_action(seat.seat_id, "logout", quiet=True)
                self.report.say(f"坐席{seat.seat_id} 未签入")
                continue
            login = await self.api.request("POST", f"/api/seats/{seat.seat_id}/login")
            if login.status_code == httpx.codes.OK:
                self.logged_in.add(seat.seat_id)
            elif login.status_code != httpx.codes.CONFLICT:  # already logged in
                self._error(f"坐席{seat.seat_id} 签入失败：{describe(login)}")
                continue
            if seat.role is SeatRole.PAUSED:
                await self._seat_action(seat.seat_id, "pause", {"reason": seat.reason})
                self.report.say(f"坐席{seat.seat_id} 签入，示忙：{seat.reason}")
            else:
                await self._seat_action(seat.seat_id, "resume", quiet=True)
                self.report.say(f"坐席{seat.seat_id} 签入，空闲")

    async def _seat_action(self, seat_id: str, action: str, body: Any = None, *,
                           quiet: bool = False) -> bool:
        response = await self.api.request("POST", f"/api/seats/{seat_id}/{action}", body)
        if response.status_code == httpx.codes.OK:
            return True
        if not quiet:
            self._error(f"坐席{seat_id} {action} 失败：{describe(response)}")
        return False

    # ----- answering phones (seats and experts) -----------------------------------------------

    async def _answer_loop(self, phone: BaresipPhone, label: str,
                           handle: Callable[[str], Awaitable[None]]) -> None:
        """Wait for each incoming call; ring a moment; hand it over. Ends with the phone."""
        while True:
            try:
                incoming = await phone.wait_for("CALL_INCOMING", timeout=IDLE_WAIT_S)
            except PhoneError:
                if not phone.running:
                    if not self.stopping.is_set():
                        self._error(f"{label} 的话机意外退出")
                    return
                continue
            call_id = incoming.call_id or ""
            ring = self.timing.ring.draw(self.rng_people)
            await asyncio.sleep(ring)
            if closed_already(phone, call_id):
                self.report.say(f"{label} 响铃 {ring:.0f} 秒，对方已挂断")
                continue
            try:
                await phone.answer()
            except PhoneError as exc:
                self.report.say(f"{label} 没能接听：{first_line(exc)}")
                continue
            try:
                await handle(call_id)
            except Exception as exc:  # one bad call must not silence the phone for good
                self._error(f"{label}：{first_line(exc)}")
                await hang_up(phone, call_id)

    async def _seat_call(self, seat_id: str, call_id: str) -> None:
        phone = self.seat_phones[seat_id]
        self.busy_seats += 1
        started = asyncio.get_running_loop().time()
        try:
            view = await self._seat_view(seat_id)
            call = (view or {}).get("call") or {}
            who = f"{call.get('citizen_name') or '市民'}（{call.get('citizen_number') or '号码未知'}）"
            self.report.say(f"坐席{seat_id} 接听 {who}")
            record = self.active_calls.get(call.get("citizen_number") or "")
            if record is not None:
                record.answered.set()
                self.summary.answered += 1
            if record is not None and record.planned.threeway and call.get("linkedid"):
                if self.threeway_busy:  # the experts are on the other one
                    self.summary.threeway_skipped += 1
                else:
                    self.threeway_busy = True
                    try:
                        await self._threeway(seat_id, phone, call_id, str(call["linkedid"]))
                    finally:
                        self.threeway_busy = False
            talk = self.timing.talk.draw(self.rng_people)
            if not await wait_closed(phone, call_id, talk):
                await hang_up(phone, call_id)
            spent = asyncio.get_running_loop().time() - started
            self.report.say(f"坐席{seat_id} 挂机，通话 {spent:.0f} 秒")
        finally:
            self.busy_seats -= 1

    async def _seat_view(self, seat_id: str) -> dict[str, Any] | None:
        """The seat as the service shows it once the answered call is on it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SEAT_VIEW_WAIT_S
        while True:
            view = await self.api.get(f"/api/seats/{seat_id}")
            call = view.get("call")
            if view.get("state") == "on_call" and call and call.get("linkedid"):
                return view
            if loop.time() >= deadline:
                return view
            await asyncio.sleep(SERVICE_POLL_S)

    async def _threeway(self, seat_id: str, phone: BaresipPhone, call_id: str, linkedid: str) -> None:
        """Talk a while, bring in a department's expert, talk together, end the call for all."""
        if await wait_closed(phone, call_id, self.timing.threeway_lead.draw(self.rng_people)):
            return
        departments = await self.api.get("/api/threeway/departments")
        department = plan.choose_department(departments, set(self.expert_phones), self.rng_plan)
        if department is None:
            self.summary.threeway_skipped += 1
            self.report.say(f"坐席{seat_id} 想发起三方通话，但现在没有可接听的值班专家：跳过")
            return
        started = await self.api.request("POST", f"/api/threeway/calls/{linkedid}/start",
                                         {"seat_id": seat_id, "department": department})
        if started.status_code != httpx.codes.CREATED:
            self._error(f"坐席{seat_id} 三方通话未能发起：{describe(started)}")
            return
        session = started.json()
        session_id = session["session_id"]
        self.summary.threeway_started += 1
        self.report.say(f"坐席{seat_id} 发起三方通话：{department}（会话 {session_id}）")
        ring_budget = self.config.threeway.expert_ring_seconds * max(1, len(session["participants"]))
        session = await self._session_settled(session_id, ring_budget + SESSION_SETTLE_S)
        if session["state"] != "conference":
            self.report.say(f"三方通话 {session_id} 未接通：{session['state']} {session.get('reason') or ''}")
            return
        self.summary.threeway_connected += 1
        expert = next((p["name"] for p in session["participants"]
                       if p["role"] == "expert" and p["state"] == "in_conference"), "专家")
        self.report.say(f"三方通话 {session_id} 接通：市民、坐席{seat_id}、{expert}")
        if await wait_closed(phone, call_id, self.timing.conference.draw(self.rng_people)):
            return
        ended = await self.api.request("POST", f"/api/threeway/sessions/{session_id}/end")
        if ended.status_code == httpx.codes.OK:
            self.report.say(f"坐席{seat_id} 结束三方通话 {session_id}")
        else:
            self.report.say(f"三方通话 {session_id} 结束请求：{describe(ended)}")
        await wait_closed(phone, call_id, CLOSE_WAIT_S)

    async def _session_settled(self, session_id: str, timeout: float) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            session = await self.api.get(f"/api/threeway/sessions/{session_id}")
            if session["state"] not in ("dialling", "joining") or loop.time() >= deadline:
                return dict(session)
            await asyncio.sleep(SERVICE_POLL_S)

    async def _expert_call(self, phone: BaresipPhone, label: str, call_id: str) -> None:
        self.report.say(f"{label} 接听三方通话")
        if not await wait_closed(phone, call_id, EXPERT_CALL_MAX_S):
            await hang_up(phone, call_id)
        self.report.say(f"{label} 挂机")

    # ----- citizens -------------------------------------------------------------------------------

    def _spawn(self, coroutine: Awaitable[None], name: str) -> None:
        task = asyncio.ensure_future(coroutine)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _citizen_call(self, planned: PlannedCall) -> None:
        if planned.kind not in self.kinds:
            return
        idle = self.idle_citizens[planned.kind]
        if not idle or self.lines.empty():
            self.summary.skipped += 1
            self.report.say("线路全忙：这通来电跳过")
            return
        citizen = idle.pop(self.rng_calls.randrange(len(idle)))
        ports = self.lines.get_nowait()
        self._call_number += 1
        name = f"call{self._call_number:05d}"
        record = CitizenCall(citizen, planned)
        try:
            if planned.kind is CallKind.DAYTIME:
                await self._daytime_call(record, name, ports)
            else:
                await self._after_hours_call(record, name, ports)
        except Exception as exc:  # reported, and the next call goes ahead
            self._error(f"{citizen.name} 的来电失败：{first_line(exc)}")
        finally:
            self.active_calls.pop(citizen.number, None)
            idle.append(citizen)
            self.lines.put_nowait(ports)
            shutil.rmtree(self.work / "calls" / name, ignore_errors=True)

    def _citizen_phone(self, name: str, citizen: Citizen, ports: PhonePorts, source: Path | None,
                       seconds: float) -> BaresipPhone:
        return BaresipPhone(name, server_host=self.sip_host, server_port=self.sip_port,
                            username=citizen.endpoint, password=self.citizen_password,
                            work_dir=self.work / "calls", register=False, record=False,
                            audio_source=source, source_seconds=seconds, sip_port=ports.sip,
                            ctrl_port=ports.ctrl, cons_port=ports.cons, rtp_ports=ports.rtp)

    async def _daytime_call(self, record: CitizenCall, name: str, ports: PhonePorts) -> None:
        citizen = record.citizen
        assert self.voices is not None
        source = None
        if self.rng_calls.random() >= SILENT_CALLER_SHARE:
            source = await self.voices.daytime(self.rng_calls.randrange(len(plan.DAYTIME_SENTENCES)))
        phone = self._citizen_phone(name, citizen, ports, source, CITIZEN_SOURCE_S)
        try:
            await phone.start()
            self.active_calls[citizen.number] = record
            self.summary.placed += 1
            extra = "，稍后需要三方通话" if record.planned.threeway else ""
            self.report.say(f"{citizen.name}（{citizen.number}）拨打{ENTRY_NUMBER}（白天{extra}）")
            await phone.dial(ENTRY_NUMBER)
            patience = self.timing.patience
            closed = asyncio.ensure_future(wait_closed(phone, None, patience + ANSWERED_CALL_MAX_S))
            answered = asyncio.ensure_future(record.answered.wait())
            try:
                done, _ = await asyncio.wait({closed, answered}, timeout=patience,
                                             return_when=asyncio.FIRST_COMPLETED)
                if not done:
                    self.summary.abandoned += 1
                    self.report.say(f"{citizen.name} 等了 {patience:.0f} 秒无人接听，挂机")
                    await hang_up(phone, None)
                elif not await closed:
                    await hang_up(phone, None)
            finally:
                await cancel_and_wait(answered)
                await cancel_and_wait(closed)
        finally:
            await phone.stop()

    async def _after_hours_call(self, record: CitizenCall, name: str, ports: PhonePorts) -> None:
        citizen = record.citizen
        assert self.voices is not None
        message = self._night_message(citizen)
        lead = self.voices.message_lead()
        source = await self.voices.night_audio(name, message, lead)
        seconds = audio.duration(source)
        phone = self._citizen_phone(name, citizen, ports, source, seconds)
        try:
            await phone.start()
            said = f"：{message.text}" if message.text else ""
            self.report.say(f"{citizen.name}（{citizen.number}）夜间来电，"
                            f"{plan.NIGHT_KIND_ZH[message.kind]}{said}")
            await phone.dial(ENTRY_NUMBER)
            loop = asyncio.get_running_loop()
            began = loop.time()
            if not await wait_closed(phone, None, seconds + CALL_SETTLE_S):
                await hang_up(phone, None)
            if loop.time() - began >= lead:
                self.summary.messages_left += 1
                self.report.say(f"{citizen.name} 留言完毕（{seconds - lead:.0f} 秒）")
            else:
                self._error(f"{citizen.name} 的夜间来电过早结束，没有留下留言")
        finally:
            await phone.stop()
            source.unlink(missing_ok=True)

    def _night_message(self, citizen: plan.Citizen) -> plan.NightMessage:
        """`--once` leaves spoken messages only (its check counts them); a continuous run leaves
        the night's mix a morning screener meets, repeats included (plan.NIGHT_MIX)."""
        if self.options.once:
            return plan.NightMessage(plan.NightKind.SPEECH,
                                     plan.voicemail_text(self.rng_calls, citizen))
        message = plan.night_message(self.rng_calls, citizen, citizen.endpoint in self._spoke)
        if message.text:
            self._spoke.add(citizen.endpoint)
        return message

    # ----- traffic ---------------------------------------------------------------------------------

    async def _run_once(self) -> None:
        calls = plan.once_calls(self.options.once_calls, self.options.once_messages,
                                threeway=bool(self.expert_phones))
        self.summary.threeway_planned = sum(call.threeway for call in calls)
        self.report.say(f"固定场景：{self.options.once_calls} 通白天来电（第一通三方通话），"
                        f"{self.options.once_messages} 条夜间留言")
        loop = asyncio.get_running_loop()
        start = loop.time()
        for planned in calls:
            if await self._sleep_until(start + planned.at):
                return
            self._spawn(self._citizen_call(planned), f"simulate-{planned.kind.value}")
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            while self._tasks and not self.stopping.is_set():
                await asyncio.wait({*self._tasks, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await cancel_and_wait(stop)
        await self._wait_seats_idle()
        await self._count_voicemails(wait_for=self.summary.messages_left)

    async def _run_continuous(self) -> None:
        duration = self.options.duration
        loop = asyncio.get_running_loop()
        start = loop.time()
        end = start + duration if duration is not None else None
        how_long = f"{duration:.0f} 秒" if duration is not None else "直到 Ctrl-C"
        self.report.say(f"来电开始：平均每分钟 {self.options.rate:g} 通，{how_long}")
        helpers = [asyncio.create_task(self._watch_service(), name="simulate-watch")]
        if any(seat.role is SeatRole.PAUSED for seat in self.roster.values()):
            helpers.append(asyncio.create_task(self._rotate_pauses(), name="simulate-rotate"))
        try:
            for planned in plan.continuous_calls(self.rng_calls, self.options.rate,
                                                 after_hours=CallKind.AFTER_HOURS in self.kinds):
                wake = start + planned.at
                if end is not None and wake > end:
                    await self._sleep_until(end)
                    break
                if await self._sleep_until(wake):
                    break
                self._spawn(self._citizen_call(planned), f"simulate-{planned.kind.value}")
        finally:
            for helper in helpers:
                await cancel_and_wait(helper)
        await self._count_voicemails(wait_for=0)

    async def _sleep_until(self, moment: float) -> bool:
        """Sleep until the loop time `moment`; True when a stop was asked for meanwhile."""
        delay = moment - asyncio.get_running_loop().time()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), delay)
        return self.stopping.is_set()

    async def _wait_seats_idle(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SEATS_IDLE_WAIT_S
        while self.busy_seats and loop.time() < deadline and not self.stopping.is_set():
            await asyncio.sleep(SERVICE_POLL_S)

    async def _count_voicemails(self, wait_for: int) -> None:
        """How many new messages the service registered (waiting for `wait_for` of them)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (VOICEMAIL_WAIT_S if wait_for else 0)
        while True:
            try:
                page = await self.api.get("/api/voicemails?limit=1")
            except SimulationError as exc:
                self.report.say(f"无法查询留言：{exc}")
                return
            registered = int(page["total"]) - self.voicemail_baseline
            self.summary.messages_registered = registered
            if registered >= wait_for or loop.time() >= deadline or self.stopping.is_set():
                break
            await asyncio.sleep(SERVICE_POLL_S)
        self.report.say(f"服务已登记 {registered} 条新留言")

    async def _watch_service(self) -> None:
        """End the simulation when the service stops listening (e.g. `./run demo` was stopped).

        A TCP connect, not a request: the service's access log stays free of it."""
        failures = 0
        while not self.stopping.is_set():
            await asyncio.sleep(WATCH_INTERVAL_S)
            failures = 0 if await self.api.listening() else failures + 1
            if failures >= WATCH_FAILURES:
                self.report.say("服务不再应答：结束模拟")
                self.stopping.set()

    async def _rotate_pauses(self) -> None:
        """Now and then a paused seat comes back and an idle one takes its break."""
        while not self.stopping.is_set():
            await asyncio.sleep(self.timing.rotation.draw(self.rng_people))
            paused = [s for s in self.roster.values() if s.role is SeatRole.PAUSED]
            try:
                seats = await self.api.get("/api/seats")
            except SimulationError as exc:
                self.report.say(f"换班跳过：{exc}")
                continue
            idle = [s["seat_id"] for s in seats if s["state"] == "available"
                    and s["seat_id"] in self.roster
                    and self.roster[s["seat_id"]].role is SeatRole.AVAILABLE]
            if not paused or not idle:
                continue
            back = self.rng_plan.choice(paused)
            going = self.rng_plan.choice(idle)
            with contextlib.suppress(SimulationError):
                if await self._seat_action(going, "pause", {"reason": back.reason}):
                    self.roster[going] = plan.SeatPlan(going, SeatRole.PAUSED, back.reason)
                    self.report.say(f"坐席{going} 示忙：{back.reason}")
                if await self._seat_action(back.seat_id, "resume"):
                    self.roster[back.seat_id] = plan.SeatPlan(back.seat_id, SeatRole.AVAILABLE)
                    self.report.say(f"坐席{back.seat_id} 结束{back.reason}，恢复接听")

    # ----- tearing down ----------------------------------------------------------------------------

    async def _teardown(self) -> None:
        """Every step runs even if an earlier one failed: phones, seats, token, endpoints, files."""
        self.stopping.set()
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            ("calls", self._stop_calls),
            ("phones", self._stop_phones),
            ("seats", self._log_out_seats),
            ("api", self.api.close),
            ("token", lambda: asyncio.to_thread(self.token.revoke)),
            ("endpoints", lambda: asyncio.to_thread(self.endpoints.remove)),
        ]
        for what, step in steps:
            try:
                await step()
            except Exception as exc:  # cleanup goes on; the failure is reported
                self._error(f"清理 {what} 失败：{exc}")
        if self._own_work:
            shutil.rmtree(self.work, ignore_errors=True)
        if self.traffic_started:
            self.report.say(f"已清理：话机已停止，令牌 {self.token.name} 已吊销，"
                            f"{LOCAL_INCLUDE} 已移除")

    async def _stop_calls(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _stop_phones(self) -> None:
        for task in self._answerers:
            await cancel_and_wait(task)
        phones = [*self.seat_phones.values(), *self.expert_phones.values()]
        await asyncio.gather(*(phone.stop() for phone in phones), return_exceptions=True)

    async def _log_out_seats(self) -> None:
        if not self.token.active:
            return
        for seat_id in sorted(self.logged_in):
            with contextlib.suppress(SimulationError):
                await self._seat_action(seat_id, "logout", quiet=True)

    def _error(self, message: str) -> None:
        self.summary.errors.append(message)
        self.report.say(f"错误：{message}")


async def run_simulation(config: HotlineConfig, pbx: SandboxPbx, options: SimulationOptions,
                         out: TextIO = sys.stdout) -> Summary:
    """Run until done (`--once`), `--duration` passed, or SIGINT/SIGTERM; always clean up."""
    simulation = Simulation(config, pbx, options, out)
    loop = asyncio.get_running_loop()
    handled = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, simulation.request_stop)
            handled.append(signum)
    try:
        summary = await simulation.run()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
    if simulation.traffic_started:
        for line in summary.lines():
            simulation.report.say(line)
    return summary


def once_complete(summary: Summary, options: SimulationOptions) -> bool:
    """Did the fixed scenario do all it planned?"""
    return (not summary.errors and summary.answered >= options.once_calls
            and summary.threeway_connected >= summary.threeway_planned
            and summary.messages_left >= options.once_messages
            and (summary.messages_registered or 0) >= options.once_messages)


__all__ = ["SimulationError", "SimulationOptions", "Summary", "once_complete", "run_simulation"]

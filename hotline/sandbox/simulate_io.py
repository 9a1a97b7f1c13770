"""What `hotline sandbox simulate` talks to: the service's API and token store, the sandbox's
pjsip_local.conf, synthesised speech, and baresip calls. The engine (simulate.py) decides what to
do; these adapters do it and turn every failure into a SimulationError with a clear message.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import wave
from pathlib import Path
from typing import Any

import httpx

from hotline.auth import Role, TokenError, add_token, revoke_token
from hotline.config import HotlineConfig
from hotline.db import make_engine, make_session_factory, session_scope
from hotline.phones import BaresipPhone, PhoneError, audio
from hotline.sandbox import simulate_plan as plan
from hotline.sandbox.errors import SandboxError
from hotline.sandbox.instance import SandboxPbx
from hotline.sandbox.simulate_plan import LocalOwner
from ivr.names import PROMPT_AFTER_HOURS, PROMPT_BEEP, PROMPT_GREETING
from ivr.pjsip import LOCAL_INCLUDE

TOKEN_PREFIX = "simulate-"
RELOAD_COMMAND = "module reload res_pjsip.so"
HTTP_TIMEOUT_S = 10.0
SERVICE_POLL_S = 0.5
PBX_CLI_TIMEOUT_S = 15.0
SPEECH_LOOP_S = 240.0  # a daytime caller repeats their sentence this long, then is silent
SPEECH_GAP_S = 4.0  # silence between two repetitions
AFTER_HOURS_PROMPTS = (PROMPT_GREETING, PROMPT_AFTER_HOURS, PROMPT_BEEP)
PROMPT_FALLBACK_S = 15.0  # if the rendered prompts cannot be measured
MESSAGE_LEAD_MARGIN_S = 1.0  # start speaking this long after the beep
NO_SPEECH_S = 8.0  # how long a night caller who does not speak stays on the line after the beep
BEEP_HANGUP_AFTER_S = 0.3  # a caller who hangs up at the beep
NIGHT_KEYS = "00#9"  # what an IVR-trained caller keys instead of speaking
MESSAGE_TAIL_S = 1.0
CLOSE_WAIT_S = 10.0  # for CALL_CLOSED after our own hang-up


class SimulationError(RuntimeError):
    """The simulation cannot run (or go on); the message says why and what to do."""


# --- the service --------------------------------------------------------------------------------

class ServiceApi:
    """The running `hotline serve`, reached with the simulation's own token."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.client = httpx.AsyncClient(base_url=self.base_url, timeout=HTTP_TIMEOUT_S)

    def use_token(self, token: str) -> None:
        self.client.headers["Authorization"] = f"Bearer {token}"

    async def request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        try:
            return await self.client.request(method, path, json=body)
        except httpx.TransportError as exc:
            raise SimulationError(f"{self.base_url} 的热线服务没有应答"
                                  f"（{exc.__class__.__name__}：{exc}）") from exc

    async def get(self, path: str) -> Any:
        response = await self.request("GET", path)
        if response.status_code != httpx.codes.OK:
            raise SimulationError(f"请求 GET {path} 失败：{describe(response)}")
        return response.json()

    async def wait_answering(self, timeout: float, stop: asyncio.Event) -> None:
        """Any HTTP answer (a 401 without a token too) means the service is up; `stop` gives up."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                await self.client.get("/api/health")
                return
            except httpx.TransportError as exc:
                if loop.time() >= deadline or stop.is_set():
                    raise SimulationError(
                        f"{self.base_url} 的热线服务没有应答（{exc}）：请先启动它"
                        "（hotline serve --sandbox 或 ./run demo），或用 --api 指定地址"
                    ) from exc
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), SERVICE_POLL_S)

    async def listening(self) -> bool:
        """Does anything accept connections on the service's port?"""
        url = httpx.URL(self.base_url)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(url.host, port),
                                               HTTP_TIMEOUT_S)
        except (OSError, TimeoutError):
            return False
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True

    async def close(self) -> None:
        await self.client.aclose()


def describe(response: httpx.Response) -> str:
    """`409 already_logged_in: …` from the API's error body, or the status alone."""
    try:
        error = response.json().get("error", {})
        return f"{response.status_code} {error.get('code')}: {error.get('message')}"
    except (ValueError, AttributeError):
        return f"{response.status_code} {response.reason_phrase}"


class StoreToken:
    """An admin token the simulation makes for itself in the service's store, and revokes."""

    def __init__(self, config: HotlineConfig) -> None:
        self.config = config
        self.name = f"{TOKEN_PREFIX}{os.getpid()}"
        self.active = False

    def create(self) -> str:
        engine = make_engine(self.config.database.url)
        try:
            with session_scope(make_session_factory(engine)) as session:
                with contextlib.suppress(TokenError):  # left by a killed run with our pid
                    revoke_token(session, self.name, actor=self.name)
                plaintext = add_token(session, self.name, Role.ADMIN, actor=self.name)
        finally:
            engine.dispose()
        self.active = True
        return plaintext

    def revoke(self) -> None:
        if not self.active:
            return
        engine = make_engine(self.config.database.url)
        try:
            with session_scope(make_session_factory(engine)) as session:
                revoke_token(session, self.name, actor=self.name)
        finally:
            engine.dispose()
        self.active = False


# --- the sandbox's citizen endpoints -----------------------------------------------------------

class CitizenEndpoints:
    """pjsip_local.conf in the sandbox: in its rendered dir (kept across `sandbox up`) and in the
    running instance's etc/ (what Asterisk reads on reload). Never overwrites a file that is
    not a simulation's own; puts back what was there before."""

    def __init__(self, pbx: SandboxPbx) -> None:
        self.pbx = pbx
        self.paths = [pbx.rendered_dir / LOCAL_INCLUDE, pbx.instance_dir / "etc" / LOCAL_INCLUDE]
        self._before: dict[Path, str | None] = {}

    def install(self, text: str) -> None:
        found = {path: _read(path) for path in self.paths}
        for path, existing in found.items():
            owner, pid = plan.pjsip_owner(existing)
            if owner is LocalOwner.FOREIGN:
                raise SimulationError(f"{path} 中有不属于模拟程序的话机配置：请把它移走，"
                                      "或换一个沙箱运行")
            if owner is LocalOwner.SIMULATION and pid != os.getpid() and _is_simulation(pid):
                raise SimulationError(f"另一个模拟程序（pid {pid}）正在对沙箱 {self.pbx.name} 运行："
                                      "请先停止它")
        for path, existing in found.items():
            owner, _ = plan.pjsip_owner(existing)
            self._before[path] = existing if owner is LocalOwner.EMPTY else None
            path.write_text(text, encoding="utf-8")
        self.reload()

    def remove(self) -> None:
        if not self._before:
            return
        for path, before in self._before.items():
            if before is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(before, encoding="utf-8")
        self._before.clear()
        self.reload()

    def reload(self) -> None:
        try:
            self.pbx.cli(RELOAD_COMMAND, timeout=PBX_CLI_TIMEOUT_S)
        except SandboxError as exc:
            raise SimulationError(f"无法在沙箱 {self.pbx.name} 中重新加载 PJSIP：{exc}") from exc


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None


def _is_simulation(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"simulate" in cmdline


# --- audio ----------------------------------------------------------------------------------------

class Voices:
    """The Mandarin the simulation's people speak, synthesised once per sentence (espeak-ng)."""

    def __init__(self, work: Path, prompts_dir: Path) -> None:
        self.dir = work / "audio"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.prompts_dir = prompts_dir
        self._sentences: dict[int, Path] = {}
        self._lock = asyncio.Lock()

    def message_lead(self) -> float:
        """What an after-hours caller hears before the beep, plus a breath."""
        try:
            heard = sum(audio.duration(self.prompts_dir / f"{name}.wav") for name in AFTER_HOURS_PROMPTS)
        except (OSError, EOFError, wave.Error):
            heard = PROMPT_FALLBACK_S
        return heard + MESSAGE_LEAD_MARGIN_S

    async def operator(self) -> Path:
        return await asyncio.to_thread(audio.speech, self.dir / "operator.wav", plan.OPERATOR_GREETING)

    async def daytime(self, index: int) -> Path:
        """Sentence `index` said again and again with pauses (cached)."""
        async with self._lock:
            if index not in self._sentences:
                self._sentences[index] = await asyncio.to_thread(self._loop_sentence, index)
            return self._sentences[index]

    def _loop_sentence(self, index: int) -> Path:
        spoken = audio.speech(self.dir / f"day{index}-once.wav", plan.DAYTIME_SENTENCES[index])
        each = audio.duration(spoken) + SPEECH_GAP_S
        repeats = max(1, int(SPEECH_LOOP_S / each))
        looped = self.dir / f"day{index}.wav"
        audio.run_tool(["sox", str(spoken), str(looped), "pad", "0", f"{SPEECH_GAP_S:.1f}",
                        "repeat", str(repeats - 1)])
        return looped

    async def message(self, tag: str, text: str, lead: float) -> Path:
        """Silence through the prompts, the spoken message, a breath: the file's end hangs up."""
        return await asyncio.to_thread(self._message, tag, text, lead)

    async def night_audio(self, tag: str, message: plan.NightMessage, lead: float) -> Path:
        """What a night caller sends: speech for the kinds that speak, else silence, keyed digits,
        street noise, or nothing past the beep."""
        if message.text:
            return await self.message(tag, message.text, lead)
        return await asyncio.to_thread(self._no_speech, tag, message.kind, lead)

    def _no_speech(self, tag: str, kind: plan.NightKind, lead: float) -> Path:
        path = self.dir / f"{tag}.wav"
        if kind is plan.NightKind.BEEP_HANGUP:
            return audio.silence(path, lead + BEEP_HANGUP_AFTER_S)
        if kind is plan.NightKind.SILENCE:
            return audio.silence(path, lead + NO_SPEECH_S)
        if kind is plan.NightKind.TONES:
            return audio.dtmf(path, NIGHT_KEYS, lead=lead, pad_to=lead + NO_SPEECH_S)
        audio.run_tool(["sox", "-n", *audio.SOX_FORMAT, str(path), "synth", f"{NO_SPEECH_S:.1f}",
                        "brownnoise", "tremolo", "0.4", "60", "vol", "0.3",
                        "pad", f"{lead:.3f}", f"{MESSAGE_TAIL_S:.3f}"])
        return path

    def _message(self, tag: str, text: str, lead: float) -> Path:
        spoken = audio.speech(self.dir / f"{tag}-said.wav", text)
        path = self.dir / f"{tag}.wav"
        audio.run_tool(["sox", str(spoken), str(path), "pad", f"{lead:.3f}", f"{MESSAGE_TAIL_S:.3f}"])
        spoken.unlink(missing_ok=True)
        return path


# --- phone helpers --------------------------------------------------------------------------------

def closed_already(phone: BaresipPhone, call_id: str | None) -> bool:
    """Has this call (any call, for None) ended? Reads the events without consuming them."""
    return any(e.type == "CALL_CLOSED" and (call_id is None or e.call_id == call_id)
               for e in phone.events)


async def wait_closed(phone: BaresipPhone, call_id: str | None, timeout: float) -> bool:
    """True once the call is over (whoever hung up); False if it still runs after `timeout`."""
    if closed_already(phone, call_id or None):
        return True
    try:
        await phone.wait_for("CALL_CLOSED", timeout=timeout, call_id=call_id or None)
    except PhoneError:
        return not phone.running
    return True


async def hang_up(phone: BaresipPhone, call_id: str | None) -> None:
    with contextlib.suppress(PhoneError):
        await phone.hangup()
        await wait_closed(phone, call_id, CLOSE_WAIT_S)


def first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else error.__class__.__name__

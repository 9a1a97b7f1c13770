"""Runs triage continuously: the model is loaded once, then new messages are triaged after each
ingestion pass and on a timer.

Loading takes seconds and half a gigabyte, so it happens once, in a thread, after start-up. A
missing or unusable model must not take the hotline down: the worker says so loudly in the log
and in /api/health, and leaves messages "new" until a model is installed and the service restarted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from hotline.config import HotlineConfig
from hotline.tasks import cancel_and_wait
from voicemail.notifier import SILENT, VoicemailNotifier
from voicemail.transcribe import TranscriberPool, model_info, model_problem, shared_model
from voicemail.triage_service import LOCAL_NODE, TriageReport, triage_pending

log = logging.getLogger(__name__)

SWEEP_SECONDS = 60.0

STATE_STARTING = "starting"
STATE_LOADING = "loading_model"
STATE_READY = "ready"
STATE_NO_MODEL = "no_model"
STATE_STOPPED = "stopped"


@dataclass(frozen=True)
class ModelStatus:
    """What /api/health shows of the loaded model."""

    path: str
    language: str | None
    warning: str | None
    loaded: bool
    error: str | None = None


class TriageWorker:
    name = "voicemail-triage"

    def __init__(self, config: HotlineConfig, sessions: sessionmaker[Session], *,
                 model_path: Path | None = None, sweep_seconds: float = SWEEP_SECONDS,
                 node_id: str = LOCAL_NODE, notifier: VoicemailNotifier = SILENT) -> None:
        self.config = config
        self.node_id = node_id
        self.sessions = sessions
        self.model_path = model_path or config.vosk.model
        self.sweep_seconds = sweep_seconds
        self.state = STATE_STARTING
        self.model = ModelStatus(str(self.model_path), None, None, loaded=False)
        self.pool: TranscriberPool | None = None
        self.passes = 0
        self.last_report: TriageReport | None = None
        self.last_error: str | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.notifier = notifier

    def wake(self) -> None:
        """Ask for a pass soon (after an ingestion pass registered something); any thread."""
        loop = self._loop
        if loop is None:
            self._wake.set()
        else:
            loop.call_soon_threadsafe(self._wake.set)

    async def start(self, app: FastAPI) -> None:
        app.state.triage_worker = self
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        if self.pool is not None:
            await asyncio.to_thread(self.pool.close)
            self.pool = None
        self.state = STATE_STOPPED

    def _load(self) -> None:
        problem = model_problem(self.model_path)
        if problem is not None:
            self.state = STATE_NO_MODEL
            self.model = ModelStatus(str(self.model_path), None, None, loaded=False, error=problem)
            log.error("voicemail triage is OFF: no usable Vosk model at %s (%s); install one with "
                      "`hotline model install` and restart. Messages wait in state 'new'.",
                      self.model_path, problem)
            return
        info = model_info(self.model_path)
        if info.warning:
            log.warning("!!! %s !!!", info.warning)
        # The process's one model: the recording workers' phrase checks share it.
        self.pool = TranscriberPool(self.model_path, model=shared_model(self.model_path))
        self.model = ModelStatus(str(self.model_path), info.language, info.warning, loaded=True)
        self.state = STATE_READY
        log.info("voicemail triage ready: model %s (language %s)", self.model_path, info.language)

    async def run_once(self) -> TriageReport | None:
        if self.pool is None:
            return None
        report = await asyncio.to_thread(triage_pending, self.sessions, self.config, self.pool,
                                         node=self.node_id)
        self.passes += 1
        self.last_report = report
        if report.total:
            log.info("voicemail %s", report.summary())
            self.notifier.triaged()
        return report

    async def _run(self) -> None:
        self.state = STATE_LOADING
        try:
            await asyncio.to_thread(self._load)
        except Exception as exc:
            self.state = STATE_NO_MODEL
            self.model = ModelStatus(str(self.model_path), None, None, loaded=False, error=str(exc))
            log.exception("voicemail triage is OFF: the Vosk model at %s failed to load",
                          self.model_path)
        if self.pool is None:
            return
        while True:
            try:
                await self.run_once()
                self.last_error = None
            except Exception as exc:
                self.last_error = f"{exc.__class__.__name__}: {exc}"
                log.exception("voicemail triage pass failed; will retry")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.sweep_seconds):
                    await self._wake.wait()
            self._wake.clear()

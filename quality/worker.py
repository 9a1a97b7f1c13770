"""Runs the recording register at start-up, whenever Asterisk says a recorded call ended, and on
a timer: ingest (spool → archive → row), measure what is new, delete what is past retention.

The start-up pass picks up calls recorded while the service was down; the AMI UserEvent makes a
call's measures appear within seconds of the hang-up; the timer is the safety net.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from hotline.tasks import PassLoop
from quality.hold import LISTEN_EVENTS, HoldLog, HoldSnapshot
from quality.ingest import (
    NO_HOLDS,
    IngestReport,
    ingest_recordings,
    measure_pending,
    purge_expired,
    transcribe_pending,
)
from quality.measures import Limits
from quality.phrases import Transcription

log = logging.getLogger(__name__)

RECORDED_EVENT = "HotlineRecording"
# The AMI events the worker listens to: the recording's end, and the holds (see quality.hold).
EVENTS = ("UserEvent", *LISTEN_EVENTS)
# Recordings transcribed per pass: new calls' measures never wait behind a long backlog.
TRANSCRIBE_BATCH = 1
SWEEP_SECONDS = 30.0
# MixMonitor closes the files a moment after the hang-up handler ran (it then touches .closed).
SETTLE_SECONDS = 1.0


@dataclass(frozen=True)
class RecordingSettings:
    spool: Path
    archive: Path
    retention_days: int
    limits: Limits = field(default_factory=Limits)
    # Called in the worker's thread, once per pass (the wiring caches it: it inspects the model).
    transcription: Callable[[], Transcription] = Transcription


def run_pass(settings: RecordingSettings, sessions: sessionmaker[Session],
             clock: Callable[[], float] = time.time, holds: HoldSnapshot = NO_HOLDS) -> IngestReport:
    """One full pass (blocking): ingest, measure everything new, purge expired audio, then take
    the phrase checks of one recording (the worker comes back at once while more wait)."""
    report = ingest_recordings(settings.spool, settings.archive, sessions, clock)
    transcription = settings.transcription()
    while measure_pending(settings.archive, sessions, settings.limits, holds=holds,
                          transcription=transcription):
        pass
    purge_expired(settings.archive, sessions, settings.retention_days, datetime.fromtimestamp(clock(), UTC))
    report.transcribed = transcribe_pending(settings.archive, sessions, transcription, TRANSCRIBE_BATCH)
    return report


class RecordingWorker:
    name = "call-recordings"

    def __init__(self, settings: RecordingSettings, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self._loop = PassLoop(self.name, self.run_once, sweep=SWEEP_SECONDS, settle=SETTLE_SECONDS,
                              failure="call recording pass failed; will retry")
        self.passes = 0
        self.holds = HoldLog()

    def on_ami_event(self, event: Mapping[str, str]) -> None:
        if event.get("UserEvent") == RECORDED_EVENT:
            self._loop.wake()
        elif event.get("Event") in LISTEN_EVENTS:
            self.holds.apply(event, time.time())

    @property
    def spool(self) -> Path:
        return self.settings.spool

    @property
    def last_error(self) -> str | None:
        return self._loop.last_error

    async def start(self, app: FastAPI) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def run_once(self) -> IngestReport:
        holds = self.holds.snapshot(time.time())  # taken here: the log changes on the event loop
        report = await asyncio.to_thread(run_pass, self.settings, self.sessions, time.time, holds)
        self.passes += 1
        if report.transcribed:
            self._loop.wake()  # more may wait for their transcript
        return report

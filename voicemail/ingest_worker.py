"""Runs ingestion at start-up, whenever Asterisk says a message was recorded, and on a timer.

The start-up pass picks up messages recorded while the service was down; the AMI UserEvent
makes a new message appear within a second; the timer is the safety net if an event is lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from hotline.tasks import PassLoop
from ivr.names import EVENT_VOICEMAIL
from voicemail.ingest import IngestReport, IngestSettings, ingest_spool
from voicemail.notifier import SILENT, VoicemailNotifier

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30.0
# Asterisk closes the WAV a moment after the hang-up event; give it time before reading.
SETTLE_SECONDS = 0.5


class VoicemailIngestWorker:
    name = "voicemail-ingest"

    def __init__(self, settings: IngestSettings, sessions: sessionmaker[Session], *,
                 notifier: VoicemailNotifier = SILENT) -> None:
        self.settings = settings
        self.notifier = notifier
        self.sessions = sessions
        self._loop = PassLoop(self.name, self.run_once, sweep=SWEEP_SECONDS, settle=SETTLE_SECONDS,
                              failure="voicemail ingestion pass failed; will retry")
        self.passes = 0
        self.last_report: IngestReport | None = None

    def on_ami_event(self, event: Mapping[str, str]) -> None:
        if event.get("UserEvent") == EVENT_VOICEMAIL:
            self._loop.wake()

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
        report = await asyncio.to_thread(ingest_spool, self.settings, self.sessions)
        self.passes += 1
        self.last_report = report
        if report.registered:
            self.notifier.registered()
        return report

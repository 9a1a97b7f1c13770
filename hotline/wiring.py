"""The one place where the capabilities are put together into the running service."""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi import APIRouter, FastAPI

from hotline.api.app import create_app
from hotline.api.lifespan import Component
from hotline.api.routes import metrics as metrics_routes
from hotline.api.routes import status as status_routes
from hotline.config import HotlineConfig
from hotline.db import make_engine, make_session_factory
from hotline.live import LiveFeed
from hotline.reports.api import router as reports_router
from hotline.reports.stats_api import router as stats_router
from hotline.web import mount_web
from quality.api import router as quality_router
from quality.measures import limits_from
from quality.phrases import Transcription, skipped_because
from quality.worker import EVENTS as RECORDING_EVENTS
from quality.worker import RecordingSettings, RecordingWorker
from seat_manager.api import router as seats_router
from seat_manager.deps import SEAT_DESK_KEY, SeatDesk
from telephony.api import router as calls_router
from telephony.callback_dial import HallCallbackDialler
from telephony.hall import Hall
from telephony.hall_feed import attach_hall
from telephony.queue_log_reader import QueueLogReader
from telephony.threeway.api import router as threeway_router
from voicemail.api import router as voicemail_router
from voicemail.callbacks.api import DIALLER_KEY
from voicemail.callbacks.api import router as callbacks_router
from voicemail.callbacks.dial import DialFailed
from voicemail.callbacks.worker import CallbackSweeper
from voicemail.ingest import IngestReport, IngestSettings
from voicemail.triage_worker import TriageWorker
from voicemail.worker import VoicemailIngestWorker
from written.api import router as written_router
from written.notify import KIND_MESSAGES, MessagesChanged

ROUTERS: tuple[APIRouter, ...] = (seats_router, calls_router, voicemail_router,
                                   callbacks_router, threeway_router, status_routes.router, stats_router,
                                   written_router, reports_router, quality_router)
ROOT_ROUTERS: tuple[APIRouter, ...] = (metrics_routes.router,)
KIND_VOICEMAILS = "voicemails"
KIND_CALLBACKS = "callbacks"
# Successful changes through these routes are announced on the live feed (see hotline.api.live_mutations).
LIVE_ANNOUNCEMENTS = {
    "/api/callbacks": ((KIND_CALLBACKS, {"reason": "changed"}),),
    "/api/voicemails": ((KIND_VOICEMAILS, {"reason": "overridden"}), (KIND_CALLBACKS, {"reason": "triage"})),
}


def _recording_settings(config: HotlineConfig) -> RecordingSettings:
    """质检: the recording register's folders, retention and measure limits from hotline.conf."""
    return RecordingSettings(config.recording.spool, config.recording.archive,
                             config.recording.retention_days, limits_from(vars(config.quality)),
                             functools.cache(functools.partial(_transcription, config)))


def _transcription(config: HotlineConfig) -> Transcription:
    """质检's phrase checks transcribe with the [vosk] model only when it is Chinese; otherwise the
    service stores why they were skipped. Asked for by the recording worker's first pass (reading
    the model's vocabulary takes a while); the model itself loads with the first recording."""
    from voicemail.transcribe import Transcriber, model_info, model_problem

    model = config.vosk.model
    if model_problem(model) is not None:
        return Transcription(skipped=skipped_because(None))
    language = model_info(model).language
    if language != "zh":
        return Transcription(skipped=skipped_because(language))
    loaded: list[Transcriber] = []

    def transcribe(path: Path) -> str:
        if not loaded:
            loaded.append(Transcriber(model))
        return loaded[0].transcribe(path).text

    return Transcription(transcribe)


def build_app(config: HotlineConfig, *, bridge: bool = True) -> FastAPI:
    """The full application; `bridge=False` serves the API without connecting to Asterisk."""
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    live = LiveFeed()
    components: list[Component] = []
    hall: Hall | None = None
    if bridge:
        hall = Hall(config, sessions)
        attach_hall(hall, live)
        ingest = VoicemailIngestWorker(
            IngestSettings(config.voicemail.spool, config.voicemail.archive,
                           float(config.voicemail.max_seconds)), sessions)
        hall.client.add_listener(ingest.on_ami_event, events=["UserEvent"])
        triage = TriageWorker(config, sessions)

        def after_ingest(report: IngestReport) -> None:
            if report.registered:
                triage.wake()
                live.publish(KIND_VOICEMAILS, {"reason": "registered"})

        ingest.after_pass.append(after_ingest)
        triage.after_pass.append(lambda _report: (live.publish(KIND_VOICEMAILS, {"reason": "triaged"}),
                                                  live.publish(KIND_CALLBACKS, {"reason": "triaged"})))
        sweeper = CallbackSweeper(sessions)
        sweeper.after_sweep.append(lambda _ids: live.publish(KIND_CALLBACKS, {"reason": "claims_expired"}))
        books = QueueLogReader(config.queue.queue_log, sessions)
        recordings = RecordingWorker(_recording_settings(config), sessions)
        hall.client.add_listener(recordings.on_ami_event, events=list(RECORDING_EVENTS))
        components = [hall, ingest, triage, sweeper, books, recordings]
    app = create_app(config, ami_status=hall, extra_routers=ROUTERS, components=components,
                     engine=engine, live=live, live_announcements=LIVE_ANNOUNCEMENTS,
                     root_routers=ROOT_ROUTERS, pages=mount_web)
    if hall is not None:
        attach_bridge(app, hall)

    def announce_messages(change: MessagesChanged) -> None:
        live.publish(KIND_MESSAGES, change.payload())

    app.state.written_notifier = announce_messages  # the written capability's notifier
    return app


def attach_bridge(app: FastAPI, hall: Hall) -> None:
    """Hand the hall to the routes: its own routes take the hall, the seats and the callbacks
    take their ports (seats stand below the hall; voicemail and the hall never import each other)."""
    app.state.hall = hall
    setattr(app.state, SEAT_DESK_KEY, SeatDesk(hall.board, hall.seats))
    setattr(app.state, DIALLER_KEY, HallCallbackDialler(hall.client, hall.board, DialFailed))

"""The one place where the capabilities are put together into the running service."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from hotline.announce import LiveCallbackNotifier, LiveVoicemailNotifier
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
from quality.worker import RecordingSettings, RecordingWorker
from seat_manager.api import router as seats_router
from telephony.api import router as calls_router
from telephony.hall import Hall
from telephony.live import attach_hall
from telephony.queue_log_reader import QueueLogReader
from telephony.threeway.api import router as threeway_router
from voicemail.api import router as voicemail_router
from voicemail.callbacks.api import router as callbacks_router
from voicemail.callbacks.notifier import STATE_KEY as CALLBACK_NOTIFIER
from voicemail.callbacks.worker import CallbackSweeper
from voicemail.ingest import IngestSettings
from voicemail.notifier import STATE_KEY as VOICEMAIL_NOTIFIER
from voicemail.triage_worker import TriageWorker
from voicemail.worker import VoicemailIngestWorker
from written.api import router as written_router

ROUTERS: tuple[APIRouter, ...] = (seats_router, calls_router, voicemail_router,
                                   callbacks_router, threeway_router, status_routes.router, stats_router,
                                   written_router, reports_router, quality_router)
ROOT_ROUTERS: tuple[APIRouter, ...] = (metrics_routes.router,)


def _recording_settings(config: HotlineConfig) -> RecordingSettings:
    """质检: the recording register's folders, retention and measure limits from hotline.conf."""
    return RecordingSettings(config.recording.spool, config.recording.archive,
                             config.recording.retention_days, limits_from(vars(config.quality)))


def build_app(config: HotlineConfig, *, bridge: bool = True) -> FastAPI:
    """The full application; `bridge=False` serves the API without connecting to Asterisk."""
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    live = LiveFeed()
    components: list[Component] = []
    hall: Hall | None = None
    # Each capability announces its own changes through the notifier it is handed (hotline.announce).
    voicemails, callbacks = LiveVoicemailNotifier(live), LiveCallbackNotifier(live)
    if bridge:
        hall = Hall(config, sessions)
        attach_hall(hall, live)
        triage = TriageWorker(config, sessions, notifier=voicemails)
        ingest = VoicemailIngestWorker(
            IngestSettings(config.voicemail.spool, config.voicemail.archive,
                           float(config.voicemail.max_seconds)), sessions,
            notifier=LiveVoicemailNotifier(live, on_registered=triage.wake))
        hall.client.add_listener(ingest.on_ami_event, events=["UserEvent"])
        sweeper = CallbackSweeper(sessions, notifier=callbacks)
        books = QueueLogReader(config.queue.queue_log, sessions)
        recordings = RecordingWorker(_recording_settings(config), sessions)
        hall.client.add_listener(recordings.on_ami_event, events=["UserEvent"])
        components = [hall, ingest, triage, sweeper, books, recordings]
    app = create_app(config, ami_status=hall, extra_routers=ROUTERS, components=components,
                     engine=engine, live=live,
                     root_routers=ROOT_ROUTERS, pages=mount_web)
    setattr(app.state, VOICEMAIL_NOTIFIER, voicemails)
    setattr(app.state, CALLBACK_NOTIFIER, callbacks)
    if hall is not None:
        app.state.hall = hall
    return app

"""The one place where the capabilities are put together into the running service."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from hotline.api.app import create_app
from hotline.api.lifespan import Component
from hotline.config import HotlineConfig
from hotline.db import make_engine, make_session_factory
from seat_manager.api import router as seats_router
from telephony.api import router as calls_router
from telephony.hall import Hall
from telephony.threeway.api import router as threeway_router
from voicemail.api import router as voicemail_router
from voicemail.callbacks.api import router as callbacks_router
from voicemail.callbacks.worker import CallbackSweeper
from voicemail.ingest import IngestReport, IngestSettings
from voicemail.triage_worker import TriageWorker
from voicemail.worker import VoicemailIngestWorker

ROUTERS: tuple[APIRouter, ...] = (seats_router, calls_router, voicemail_router,
                                   callbacks_router, threeway_router)


def build_app(config: HotlineConfig, *, bridge: bool = True) -> FastAPI:
    """The full application; `bridge=False` serves the API without connecting to Asterisk."""
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    components: list[Component] = []
    hall: Hall | None = None
    if bridge:
        hall = Hall(config, sessions)
        ingest = VoicemailIngestWorker(
            IngestSettings(config.voicemail.spool, config.voicemail.archive,
                           float(config.voicemail.max_seconds)), sessions)
        hall.client.add_listener(ingest.on_ami_event, events=["UserEvent"])
        triage = TriageWorker(config, sessions)

        def after_ingest(report: IngestReport) -> None:
            if report.registered:
                triage.wake()

        ingest.after_pass.append(after_ingest)
        components = [hall, ingest, triage, CallbackSweeper(sessions)]
    app = create_app(config, ami_status=hall, extra_routers=ROUTERS, components=components,
                     engine=engine)
    if hall is not None:
        app.state.hall = hall
    return app

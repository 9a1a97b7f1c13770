"""The one place where the capabilities are put together into the running service."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI
from sqlalchemy.orm import Session, sessionmaker

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
from telephony.hall import Hall, Halls
from telephony.live import attach_halls
from telephony.queue_log_reader import QueueLogReader
from telephony.threeway.api import router as threeway_router
from voicemail.api import router as voicemail_router
from voicemail.callbacks.api import router as callbacks_router
from voicemail.callbacks.worker import CallbackSweeper
from voicemail.ingest import IngestReport, IngestSettings
from voicemail.triage_worker import TriageWorker
from voicemail.worker import VoicemailIngestWorker
from written.api import router as written_router

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
                             config.recording.retention_days, limits_from(vars(config.quality)))


def _spool_workers(halls: Halls, sessions: sessionmaker[Session],
                   after_ingest: Callable[[IngestReport], None]) -> list[Component]:
    """One voicemail and one recording worker per spool folder, woken by the PBXs writing there
    (PBXs sharing a folder share its workers)."""
    ingest: dict[Path, VoicemailIngestWorker] = {}
    recordings: dict[Path, RecordingWorker] = {}
    for hall in halls:
        voicemail = hall.config.voicemail
        if voicemail.spool not in ingest:
            ingest[voicemail.spool] = VoicemailIngestWorker(
                IngestSettings(voicemail.spool, voicemail.archive, float(voicemail.max_seconds)), sessions)
            ingest[voicemail.spool].after_pass.append(after_ingest)
        if hall.config.recording.spool not in recordings:
            recordings[hall.config.recording.spool] = RecordingWorker(_recording_settings(hall.config),
                                                                      sessions)
        hall.client.add_listener(ingest[voicemail.spool].on_ami_event, events=["UserEvent"])
        hall.client.add_listener(recordings[hall.config.recording.spool].on_ami_event,
                                 events=["UserEvent"])
    return [*ingest.values(), *recordings.values()]


def build_app(config: HotlineConfig, *, bridge: bool = True) -> FastAPI:
    """The full application; `bridge=False` serves the API without connecting to Asterisk.

    One Hall (AMI bridge, monitor, seat board, recorder) and one queue_log reader per PBX in
    hotline.conf; a voicemail and a recording worker per spool folder the PBXs write into.
    """
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    live = LiveFeed()
    components: list[Component] = []
    halls: Halls | None = None
    if bridge:
        halls = Halls([Hall(config.for_pbx(pbx.name), sessions) for pbx in config.pbxes])
        triage = TriageWorker(config, sessions)

        def after_ingest(report: IngestReport) -> None:
            if report.registered:
                triage.wake()
                live.publish(KIND_VOICEMAILS, {"reason": "registered"})

        triage.after_pass.append(lambda _report: (live.publish(KIND_VOICEMAILS, {"reason": "triaged"}),
                                                  live.publish(KIND_CALLBACKS, {"reason": "triaged"})))
        sweeper = CallbackSweeper(sessions)
        sweeper.after_sweep.append(lambda _ids: live.publish(KIND_CALLBACKS, {"reason": "claims_expired"}))
        attach_halls(halls, live)
        spool_workers = _spool_workers(halls, sessions, after_ingest)
        for hall in halls:
            components += [hall, QueueLogReader(hall.config.queue.queue_log, sessions, pbx=hall.pbx)]
        components += [*spool_workers, triage, sweeper]
    app = create_app(config, ami_status=halls, extra_routers=ROUTERS,
                     components=components, engine=engine, live=live,
                     live_announcements=LIVE_ANNOUNCEMENTS, root_routers=ROOT_ROUTERS, pages=mount_web)
    if halls is not None:
        app.state.hall, app.state.halls = halls.first, halls
    return app

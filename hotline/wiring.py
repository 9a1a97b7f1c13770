"""The one place where the capabilities are put together into the running service."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI
from sqlalchemy.orm import Session, sessionmaker

from hotline.announce import (
    KIND_VOICEMAILS,
    LiveCallbackNotifier,
    LiveMessagesNotifier,
    LiveVoicemailNotifier,
)
from hotline.api.app import create_app
from hotline.api.lifespan import Component
from hotline.api.routes import metrics as metrics_routes
from hotline.api.routes import status as status_routes
from hotline.api.routes.health import SPOOL_WORKERS_KEY
from hotline.cluster import BridgeLease, FeedRelay, default_node_id
from hotline.config import HotlineConfig
from hotline.db import backend_name, make_engine, make_session_factory
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
from telephony.callback_dial import HallsCallbackDialler
from telephony.hall import Hall, Halls
from telephony.hall_feed import HALL_KINDS, attach_halls
from telephony.queue_log_reader import QueueLogReader
from telephony.threeway.api import router as threeway_router
from voicemail.api import router as voicemail_router
from voicemail.callbacks.api import DIALLER_KEY
from voicemail.callbacks.api import router as callbacks_router
from voicemail.callbacks.dial import dial_failed
from voicemail.callbacks.notifier import STATE_KEY as CALLBACK_NOTIFIER
from voicemail.callbacks.worker import CallbackSweeper
from voicemail.ingest import IngestSettings
from voicemail.ingest_worker import VoicemailIngestWorker
from voicemail.notifier import STATE_KEY as VOICEMAIL_NOTIFIER
from voicemail.triage_worker import TriageWorker
from written.api import router as written_router

if TYPE_CHECKING:
    from voicemail.transcribe import Transcriber

ROUTERS: tuple[APIRouter, ...] = (seats_router, calls_router, voicemail_router,
                                   callbacks_router, threeway_router, status_routes.router, stats_router,
                                   written_router, reports_router, quality_router)
ROOT_ROUTERS: tuple[APIRouter, ...] = (metrics_routes.router,)


def _recording_settings(config: HotlineConfig) -> RecordingSettings:
    """质检: the recording register's folders, retention and measure limits from hotline.conf."""
    return RecordingSettings(config.recording.spool, config.recording.archive,
                             config.recording.retention_days, limits_from(vars(config.quality)),
                             functools.cache(functools.partial(_transcription, config)))


def _transcription(config: HotlineConfig) -> Transcription:
    """质检's phrase checks transcribe with the [vosk] model only when it is Chinese; otherwise the
    service stores why they were skipped. Asked for by the recording worker's first pass (reading
    the model's vocabulary takes a while); the model itself loads with the first recording."""
    from voicemail.transcribe import model_info, model_problem

    model = config.vosk.model
    if model_problem(model) is not None:
        return Transcription(skipped=skipped_because(None))
    language = model_info(model).language
    if language != "zh":
        return Transcription(skipped=skipped_because(language))
    return Transcription(SpoolTranscriber(model))


class SpoolTranscriber:
    """One spool's recognizer over the process's one model (voicemail.transcribe.shared_model):
    several spools' workers transcribe in parallel without loading the model each."""

    def __init__(self, model: Path) -> None:
        self.model = model
        self.transcriber: Transcriber | None = None

    def __call__(self, path: Path) -> str:
        """Called in the worker's thread, one pass at a time."""
        from voicemail.transcribe import Transcriber, shared_model

        if self.transcriber is None:
            self.transcriber = Transcriber(self.model, model=shared_model(self.model))
        return self.transcriber.transcribe(path).text


def _cluster(config: HotlineConfig, live: LiveFeed, node_id: str) -> list[Component]:
    """On PostgreSQL, several nodes may serve: relay the live changes that do not come from
    Asterisk (each node follows Asterisk itself) to the other nodes' streams."""
    if backend_name(config.database.url) != "postgresql":
        return []
    return [FeedRelay(config.database.url, live, node_id, local_kinds=HALL_KINDS)]


def _lease(config: HotlineConfig, pbx: str, node_id: str) -> BridgeLease:
    """The lease on one PBX's bridge (each PBX of hotline.conf has its own, so two nodes may
    each hold one), renewed over a connection of its own (never queued behind the API's
    requests for a pooled one)."""
    engine = make_engine(config.database.url, pool_size=1, max_overflow=1)
    return BridgeLease(make_session_factory(engine), pbx=pbx, node_id=node_id)


def _wake_on_others(relays: list[Component], triage: TriageWorker) -> None:
    """Another node registered messages (its ingest told its notifier, which the relay carried
    here): this node helps triage them (claims keep it to one)."""
    def wake(kind: str, payload: object) -> None:
        if kind == KIND_VOICEMAILS and isinstance(payload, dict) and payload.get("reason") == "registered":
            triage.wake()

    for relay in relays:
        if isinstance(relay, FeedRelay):
            relay.on_receive.append(wake)


def _spool_workers(halls: Halls, sessions: sessionmaker[Session],
                   ingest_notifier: LiveVoicemailNotifier) -> list[Component]:
    """One voicemail and one recording worker per spool folder, woken by the PBXs writing there
    (PBXs sharing a folder share its workers)."""
    ingest: dict[Path, VoicemailIngestWorker] = {}
    recordings: dict[Path, RecordingWorker] = {}
    for hall in halls:
        voicemail = hall.config.voicemail
        if voicemail.spool not in ingest:
            ingest[voicemail.spool] = VoicemailIngestWorker(
                IngestSettings(voicemail.spool, voicemail.archive, float(voicemail.max_seconds)), sessions,
                notifier=ingest_notifier)
        if hall.config.recording.spool not in recordings:
            recordings[hall.config.recording.spool] = RecordingWorker(_recording_settings(hall.config),
                                                                      sessions)
        hall.client.add_listener(ingest[voicemail.spool].on_ami_event, events=["UserEvent"])
        hall.client.add_listener(recordings[hall.config.recording.spool].on_ami_event,
                                 events=list(RECORDING_EVENTS))
    return [*ingest.values(), *recordings.values()]


def _bridge(config: HotlineConfig, sessions: sessionmaker[Session], live: LiveFeed, node: str,
            relays: list[Component]) -> tuple[Halls, list[Component]]:
    """One AMI bridge per PBX, followed by every node and written by that PBX's lease holder
    (its recorder and queue_log books), and the workers.

    Each worker announces its own changes through the notifier it is handed (hotline.announce);
    a pass that registered messages also wakes this node's triage first."""
    halls = Halls([Hall(config.for_pbx(pbx.name), sessions) for pbx in config.pbxes])
    attach_halls(halls, live)
    triage = TriageWorker(config, sessions, node_id=node, notifier=LiveVoicemailNotifier(live))
    _wake_on_others(relays, triage)
    sweeper = CallbackSweeper(sessions, notifier=LiveCallbackNotifier(live))
    parts: list[Component] = []
    for hall in halls:
        lease = _lease(config, hall.pbx, node)
        hall.follow_lease(lease, writers=[QueueLogReader(hall.config.queue.queue_log, sessions,
                                                         pbx=hall.pbx)])
        parts += [hall, lease]
    workers = _spool_workers(halls, sessions, LiveVoicemailNotifier(live, on_registered=triage.wake))
    return halls, [*parts, *workers, triage, sweeper]


def build_app(config: HotlineConfig, *, bridge: bool = True, node_id: str | None = None) -> FastAPI:
    """The full application; `bridge=False` serves the API without connecting to Asterisk.

    One Hall (AMI bridge, monitor, seat board, recorder), one bridge lease and one queue_log
    reader per PBX in hotline.conf; a voicemail and a recording worker per spool folder the
    PBXs write into. `node_id` names this node among several on one PostgreSQL (see
    hotline.cluster)."""
    engine = make_engine(config.database.url)
    sessions = make_session_factory(engine)
    live = LiveFeed()
    node = node_id or default_node_id(config.api.port)
    components: list[Component] = _cluster(config, live, node)
    halls: Halls | None = None
    if bridge:
        halls, parts = _bridge(config, sessions, live, node, components)
        components += parts
    app = create_app(config, ami_status=halls, extra_routers=ROUTERS, components=components,
                     engine=engine, live=live, root_routers=ROOT_ROUTERS, pages=mount_web)
    app.state.node_id = node
    # Each capability announces its own changes through the notifier it is handed (hotline.announce).
    setattr(app.state, VOICEMAIL_NOTIFIER, LiveVoicemailNotifier(live))
    setattr(app.state, CALLBACK_NOTIFIER, LiveCallbackNotifier(live))
    app.state.written_notifier = LiveMessagesNotifier(live)  # written/api.py takes it from here
    if halls is not None:
        attach_bridge(app, halls)
    # Every spool folder's workers (not the last one started): /api/health shows each.
    setattr(app.state, SPOOL_WORKERS_KEY,
            tuple(c for c in components if isinstance(c, VoicemailIngestWorker | RecordingWorker)))
    return app


def attach_bridge(app: FastAPI, hall: Hall | Halls) -> None:
    """Hand the halls (one per PBX) to the routes: their own routes take the halls, the seats and
    the callbacks take their ports, each seat's actions and callbacks going to its own PBX (seats
    stand below the hall; voicemail and the hall never import each other)."""
    halls = hall if isinstance(hall, Halls) else Halls([hall])
    app.state.hall, app.state.halls = halls.first, halls
    setattr(app.state, SEAT_DESK_KEY, SeatDesk([each.seat_floor() for each in halls]))
    setattr(app.state, DIALLER_KEY, HallsCallbackDialler(halls, dial_failed))

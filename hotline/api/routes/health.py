"""Is the service well? Answers 200 whenever the API itself runs, saying what is degraded.

A dashboard polling this must see "AMI is down" as data, not as a failed request.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hotline.api.deps import AmiStatusDep, ReaderDep, SessionDep
from hotline.api.version import service_version
from hotline.db.engine import backend_name

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])

SPOOL_WORKERS_KEY = "spool_workers"  # app.state: every spool folder's workers (hotline/wiring.py)
TRIAGE_NO_MODEL = "no_model"  # voicemail.triage_worker.STATE_NO_MODEL (the API does not import it)
NO_MODEL_ZH = "未安装语音识别模型：留言照常登记，自动分拣暂停"
NOT_CHINESE_ZH = "识别模型不是中文（演示或测试用的替代模型）：转写不可信，凡有人声的留言都交人工复核"


class AmiHealth(BaseModel):
    connected: bool = Field(examples=[True])
    connected_since: datetime | None = Field(examples=["2026-11-28T06:00:03+08:00"])
    last_error: str | None = Field(examples=[None])
    pbx_version: str | None = Field(None, examples=["22.10.1"])
    pbx_uptime_seconds: float | None = Field(None, examples=[86400.0])
    stale_since: datetime | None = Field(None, description="since when the seat picture is not "
                                         "followed live (the link is down); null while it is",
                                         examples=[None])


class DatabaseHealth(BaseModel):
    ok: bool = Field(examples=[True])
    backend: Literal["sqlite", "postgresql"]
    error: str | None = Field(None, examples=[None])


class ModelHealth(BaseModel):
    path: str = Field(examples=["/var/lib/hotline/models/vosk-model-small-cn-0.22"])
    language: str | None = Field(examples=["zh"])
    loaded: bool = Field(examples=[True])
    warning: str | None = Field(None, description="set when the model is not Chinese", examples=[None])
    error: str | None = Field(None, examples=[None])


class TriageHealth(BaseModel):
    state: str = Field(examples=["ready", "loading_model", "no_model"])
    model: ModelHealth
    passes: int = Field(examples=[3])
    last_error: str | None = Field(None, examples=[None])


class BridgeHealth(BaseModel):
    pbx: str = Field(examples=["main"])
    node: str | None = Field(description="the node that holds this PBX's bridge (writes what its "
                             "AMI stream says); null while no node holds it",
                             examples=["hotline-a:8345"])
    this_node: bool = Field(examples=[True])
    since: datetime | None = Field(None, description="since when this node holds it",
                                   examples=["2026-11-28T06:00:03+08:00"])


class SpoolHealth(BaseModel):
    worker: str = Field(description="voicemail-ingest (留言) or call-recordings (质检录音)",
                        examples=["voicemail-ingest"])
    folder: str = Field(examples=["/var/spool/asterisk/hotline"])
    passes: int = Field(examples=[12])
    last_error: str | None = Field(None, description="why the last pass failed; null after one "
                                   "that did not", examples=[None])


class SpoolWorker(Protocol):
    """What health reads of a spool worker (voicemail and quality implement it; the API does
    not import them)."""

    name: str
    passes: int

    @property
    def spool(self) -> Path: ...

    @property
    def last_error(self) -> str | None: ...


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="degraded when the AMI link or the "
                                              "database is down; warnings do not degrade it")
    ami: AmiHealth
    database: DatabaseHealth
    version: str = Field(examples=["0.1.0"])
    triage: TriageHealth | None = None
    warnings: list[str] = Field(default_factory=list, description="what works with less, in Chinese",
                                examples=[[NOT_CHINESE_ZH]])
    node: str | None = Field(None, description="this node's name (several nodes on one PostgreSQL)",
                             examples=["hotline-a:8345"])
    bridges: list[BridgeHealth] = Field(default_factory=list,
                                        description="each PBX's bridge and the node holding it")
    spools: list[SpoolHealth] = Field(default_factory=list,
                                      description="every spool folder's voicemail and recording worker "
                                                  "(one of each per folder the PBXs write into); "
                                                  "empty without the AMI bridge")


def spools_of(state: object) -> list[SpoolHealth]:
    """Every spool worker of this node, however many PBXs and folders there are."""
    workers: tuple[SpoolWorker, ...] = getattr(state, SPOOL_WORKERS_KEY, ())
    return [SpoolHealth(worker=w.name, folder=str(w.spool), passes=w.passes, last_error=w.last_error)
            for w in workers]


def bridges_of(state: object) -> list[BridgeHealth]:
    """Who holds each PBX's bridge, as this node's leases last saw it."""
    leases = getattr(state, "bridge_leases", None) or {}
    return [BridgeHealth(**lease.describe()) for _pbx, lease in sorted(leases.items())]


def _database(request: Request, session: SessionDep) -> DatabaseHealth:
    backend = backend_name(request.app.state.config.database.url)
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health: database check failed: %s", exc.__class__.__name__)
        return DatabaseHealth(ok=False, backend=backend, error=exc.__class__.__name__)
    return DatabaseHealth(ok=True, backend=backend)


def _triage(request: Request) -> TriageHealth | None:
    """The triage worker, when this service runs one (the API-only mode does not)."""
    worker = getattr(request.app.state, "triage_worker", None)
    if worker is None:
        return None
    m = worker.model
    return TriageHealth(state=worker.state, passes=worker.passes, last_error=worker.last_error,
                        model=ModelHealth(path=m.path, language=m.language, loaded=m.loaded,
                                          warning=m.warning, error=m.error))


def _triage_warnings(triage: TriageHealth | None) -> list[str]:
    """What triage does with less, in Chinese: no model at all, or a model that is not Chinese
    (the demo's and CI's stand-in: every message with speech goes to the screening desk)."""
    if triage is None:
        return []
    if triage.state == TRIAGE_NO_MODEL:
        return [NO_MODEL_ZH]
    return [NOT_CHINESE_ZH] if triage.model.loaded and triage.model.warning else []


@router.get("/health", summary="Service health")
def health(request: Request, _principal: ReaderDep, session: SessionDep,
           ami_status: AmiStatusDep) -> HealthOut:
    """AMI link, database and version; status is "degraded" when the link or the database is
    down (what an alarm should follow). A missing speech model is a warning: without it every
    message is still registered, and the service could otherwise never look well."""
    ami = AmiHealth(
        connected=ami_status.connected,
        connected_since=ami_status.connected_since,
        last_error=ami_status.last_error,
        pbx_version=getattr(ami_status, "pbx_version", None),
        pbx_uptime_seconds=getattr(ami_status, "pbx_uptime_seconds", None),
        stale_since=getattr(ami_status, "stale_since", None),
    )
    database = _database(request, session)
    triage = _triage(request)
    warnings = _triage_warnings(triage)
    status = "ok" if ami.connected and database.ok else "degraded"
    return HealthOut(status=status, ami=ami, database=database, version=service_version(),
                     triage=triage, warnings=warnings, node=getattr(request.app.state, "node_id", None),
                     bridges=bridges_of(request.app.state), spools=spools_of(request.app.state))

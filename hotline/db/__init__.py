"""The store: one engine, one declarative Base for every capability, migrations by Alembic."""

from hotline.db.audit import AuditEntry, record_audit
from hotline.db.base import Base
from hotline.db.engine import (
    SessionFactory,
    backend_name,
    make_engine,
    make_session_factory,
    normalise_url,
)
from hotline.db.migrate import (
    current_revision,
    downgrade_database,
    head_revision,
    upgrade_database,
)
from hotline.db.session import get_session, session_scope
from hotline.db.types import JSONDocument, UTCDateTime, utcnow

__all__ = [
    "AuditEntry",
    "Base",
    "JSONDocument",
    "SessionFactory",
    "UTCDateTime",
    "backend_name",
    "current_revision",
    "downgrade_database",
    "get_session",
    "head_revision",
    "make_engine",
    "make_session_factory",
    "normalise_url",
    "record_audit",
    "session_scope",
    "upgrade_database",
    "utcnow",
]

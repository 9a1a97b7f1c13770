"""Every module that defines tables on the shared Base, in one list.

Alembic's env.py imports these so autogenerate and the schema check see every table; a new
capability adds its models module here (e.g. "seat_manager.models") and nothing else.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from hotline.db.base import Base

MODEL_MODULES: tuple[str, ...] = (
    "hotline.auth.models",
    "hotline.db.audit",
    "hotline.cluster.lease",
    "voicemail.models",
    "seat_manager.models",
    "telephony.models",
    "telephony.threeway.models",
    "voicemail.callbacks.models",
    "written.models",
    "quality.models",
)


def import_models() -> MetaData:
    """Import every registered model module and return the metadata holding their tables."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    return Base.metadata

"""Every table of the service: the composition of each capability's models on the shared Base.

The top floor's list, not the base's: the store (hotline/db) knows no capability, and a new
capability adds its models module here and nothing else. Alembic's env.py and the schema test
import it so autogenerate and the check see every table.
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

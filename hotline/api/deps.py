"""Dependencies for the application's own routes, in the FastAPI template's style.

The shared aliases live in the base beside what they alias (the session in `hotline.db.session`,
the configuration in `hotline.config.deps`, the principal by role in `hotline.auth.deps`), so
capability routers use the very same ones; this module adds what only the application has.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hotline.api.ami_status import AmiStatus
from hotline.auth.deps import AdminDep, OperatorDep, ReaderDep
from hotline.config.deps import ConfigDep, get_config
from hotline.db.session import SessionDep


def get_ami_status(request: Request) -> AmiStatus:
    return request.app.state.ami_status


AmiStatusDep = Annotated[AmiStatus, Depends(get_ami_status)]

__all__ = ["AdminDep", "AmiStatusDep", "ConfigDep", "OperatorDep", "ReaderDep", "SessionDep",
           "get_ami_status", "get_config"]

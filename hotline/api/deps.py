"""Dependencies for the application's own routes, in the FastAPI template's style.

The shared aliases (session, config, principal by role) live in the base (`hotline.deps`) so
capability routers use the very same ones; this module adds what only the application has.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hotline.api.ami_status import AmiStatus
from hotline.deps import AdminDep, ConfigDep, OperatorDep, ReaderDep, SessionDep, get_config


def get_ami_status(request: Request) -> AmiStatus:
    return request.app.state.ami_status


AmiStatusDep = Annotated[AmiStatus, Depends(get_ami_status)]

__all__ = ["AdminDep", "AmiStatusDep", "ConfigDep", "OperatorDep", "ReaderDep", "SessionDep",
           "get_ami_status", "get_config"]

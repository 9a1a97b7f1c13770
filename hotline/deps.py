"""Request dependencies every router shares, declared once: the session, the config, the
principal by role.

In the base layer so that capability routers and the application's own routes import the same
aliases (a capability may not import `hotline.api`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hotline.auth.deps import require_role
from hotline.auth.principal import Principal
from hotline.auth.roles import ADMINS, OPERATORS, READERS
from hotline.config import HotlineConfig
from hotline.db.session import get_session


def get_config(request: Request) -> HotlineConfig:
    return request.app.state.config


SessionDep = Annotated[Session, Depends(get_session)]
ConfigDep = Annotated[HotlineConfig, Depends(get_config)]
ReaderDep = Annotated[Principal, Depends(require_role(*READERS))]
OperatorDep = Annotated[Principal, Depends(require_role(*OPERATORS))]
AdminDep = Annotated[Principal, Depends(require_role(*ADMINS))]

BODY_BOUND_KEY = "x-max-body-bytes"
"""A route taking a larger body than the API's default bound (1 MiB) declares its own in its
openapi_extra under this key; hotline.api.body_limit enforces it before the token check."""

__all__ = ["BODY_BOUND_KEY", "AdminDep", "ConfigDep", "OperatorDep", "ReaderDep", "SessionDep",
           "get_config"]

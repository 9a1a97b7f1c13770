"""Dependencies for the application's own routes, in the FastAPI template's style.

Capability routers use the same building blocks from their homes (`hotline.auth`,
`hotline.db.session`), so they never import the application package.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hotline.api.ami_status import AmiStatus
from hotline.auth import ADMINS, OPERATORS, READERS, Principal, require_role
from hotline.config import HotlineConfig
from hotline.db.session import get_session


def get_config(request: Request) -> HotlineConfig:
    return request.app.state.config


def get_ami_status(request: Request) -> AmiStatus:
    return request.app.state.ami_status


SessionDep = Annotated[Session, Depends(get_session)]
ConfigDep = Annotated[HotlineConfig, Depends(get_config)]
AmiStatusDep = Annotated[AmiStatus, Depends(get_ami_status)]

ReaderDep = Annotated[Principal, Depends(require_role(*READERS))]
OperatorDep = Annotated[Principal, Depends(require_role(*OPERATORS))]
AdminDep = Annotated[Principal, Depends(require_role(*ADMINS))]

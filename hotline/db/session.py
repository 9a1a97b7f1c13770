"""Per-request sessions for FastAPI routes of any capability.

Lives beside the engine, not in hotline/api, so capability routers can depend on it without
depending on the application that mounts them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hotline.db.engine import SessionFactory


@contextmanager
def session_scope(factory: SessionFactory) -> Iterator[Session]:
    """One unit of work: commit if the block succeeds, roll back if it raises."""
    with factory() as session, session.begin():
        yield session


def get_session(request: Request) -> Iterator[Session]:
    """A session per request from `app.state.sessionmaker`; routes commit what they change."""
    factory: SessionFactory = request.app.state.sessionmaker
    with factory() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
"""A request's session, for every router's signature."""

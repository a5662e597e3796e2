"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends
from sqlalchemy.orm import Session

from shared.db import session_scope


def get_session() -> Iterator[Session]:
    """A request-scoped session (commit on success)."""
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

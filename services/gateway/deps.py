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


# scope="function": the commit runs before the response is sent. FastAPI's default ends a yield
# dependency after the response, so a client could be told 201 before the row committed (and read
# nothing back), or be told success by a request whose commit then failed.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

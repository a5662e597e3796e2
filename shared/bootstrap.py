"""Bring a database to a usable state: newest schema, and round 1 open for every task."""

from __future__ import annotations

from shared.db import migrate, session_scope
from shared.modeltask.registry import tasks
from shared.weights import ensure_first_round


def prepare(url: str | None = None) -> None:
    """Migrate the database and register each task's round-1 global model (idempotent)."""
    migrate(url)
    with session_scope(url) as session:
        for name in tasks():
            ensure_first_round(session, name)

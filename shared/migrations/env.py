"""Alembic environment: migrations run against the URL set in the config (see shared.db.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from shared.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    """Apply migrations on a fresh connection (online mode only; AURA never emits SQL scripts)."""
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url must be set (shared.db.alembic_config does)"
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # render_as_batch lets the same migrations alter tables on SQLite (copy-and-move).
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()

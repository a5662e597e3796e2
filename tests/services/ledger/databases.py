"""Scratch PostgreSQL databases on the test server, made and dropped by tests that rewrite rows."""

from __future__ import annotations

import uuid

import sqlalchemy as sa


def _admin(url: str) -> sa.Engine:
    return sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def create_database(server_url: str, template: str | None = None) -> str:
    """Create an empty database (or a copy of `template`) on the server of `server_url`; return its URL."""
    name = f"aura_ledger_{uuid.uuid4().hex[:10]}"
    with _admin(server_url).connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    return sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    """Drop the database at `url`, disconnecting whoever still uses it."""
    with _admin(server_url).connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{sa.engine.make_url(url).database}" WITH (FORCE)'))

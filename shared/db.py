"""One engine per process and a session helper; the schema itself changes only through Alembic."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from shared.settings import get_settings

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the gateway read while a worker writes; busy_timeout makes writers queue instead
    # of failing; autocommit off at the driver so our own BEGIN IMMEDIATE below takes effect.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # A deferred SQLite transaction that reads, then writes, fails with SQLITE_BUSY when another
    # writer got in between; taking the write lock up front serialises writers (the ledger relies
    # on that on SQLite, where there is no advisory lock).
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def get_engine(url: str | None = None, *, durable: bool = True) -> Engine:
    """The process's engine for `url` (default: the settings' database).

    `durable=False` is for rows that can be recomputed: PostgreSQL acknowledges their commits
    before the WAL reaches disk (synchronous_commit off, set once per connection rather than by a
    statement in every transaction). A crash loses at most the last few such commits, never
    corrupts them, and the sweeper re-runs what was lost.
    """
    url = url or get_settings().resolved_database_url
    return _engine(url, durable or url.startswith("sqlite"))


@lru_cache(maxsize=8)
def _engine(url: str, durable: bool) -> Engine:
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    # A small pool because each worker process needs one connection at a time (prefetch 1, one
    # task at a time). Connections are pinged only after sitting idle (see _ping_if_idle).
    connect_args = {} if durable else {"options": "-c synchronous_commit=off"}
    return ping_when_idle(create_engine(url, pool_size=5, max_overflow=5, connect_args=connect_args))


# A pooled connection that sat idle this long is pinged before use: PostgreSQL may have been
# restarted, or a firewall dropped the idle socket, meanwhile. One used a moment ago is not:
# pinging on every checkout (pool_pre_ping) cost a round trip per transaction, six per vetted
# update. A connection that dies mid-burst fails its statement instead, SQLAlchemy then discards
# the pool, and the stage's task retries on OperationalError.
PING_AFTER_IDLE_S = 10.0


def ping_when_idle(engine: Engine) -> Engine:
    """Make the engine's pool ping a connection that sat idle PING_AFTER_IDLE_S before handing it out."""
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _ping_if_idle)
    return engine


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    since = record.info.get("idle_since")  # absent on a connection made just now
    if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
    except Exception as exc:
        # The pool discards this connection and checks out another (up to three attempts).
        raise DisconnectionError("an idle pooled connection was closed by the server") from exc


@lru_cache(maxsize=4)
def _session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None, *, durable: bool = True) -> Iterator[Session]:
    """A session that commits on success and rolls back on any exception (`durable`: see get_engine)."""
    session = _session_factory(get_engine(url, durable=durable))()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@lru_cache(maxsize=8)
def _autocommit(engine: Engine) -> Engine:
    return engine.execution_options(isolation_level="AUTOCOMMIT")


@contextmanager
def read_scope(url: str | None = None) -> Iterator[Connection]:
    """A connection for a single read, outside a transaction.

    On PostgreSQL a session's read costs three round trips (BEGIN, the query, COMMIT); in
    autocommit mode it is one. For lookups that run on every request, such as the API key.
    """
    with _autocommit(get_engine(url)).connect() as connection:
        yield connection


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at the project's migrations and `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", (url or get_settings().resolved_database_url).replace("%", "%%"))
    return config


def migrate(url: str | None = None) -> None:
    """Bring the database at `url` to the newest schema."""
    command.upgrade(alembic_config(url), "head")


def _server(url: str) -> Engine:
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


def create_database(server_url: str, prefix: str = "aura_scratch", template: str | None = None,
                    name: str | None = None) -> str:
    """Create a fresh PostgreSQL database (or a copy of `template`) on `server_url`'s server; return its URL.

    It is called `name`, or `prefix` and a random suffix.
    """
    name = name or f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = _server(server_url)
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, url: str) -> None:
    """Drop the database at `url`, disconnecting whoever still uses it."""
    engine = _server(server_url)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()

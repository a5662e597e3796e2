"""Engines: recomputable rows commit without waiting for the WAL; idle pooled connections are checked."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from shared.db import session_scope

pytestmark = pytest.mark.integration  # every test here talks to PostgreSQL


def test_a_non_durable_session_turns_synchronous_commit_off_and_a_default_one_keeps_it():
    with session_scope(durable=False) as session:
        relaxed = session.scalar(text("SHOW synchronous_commit"))
    with session_scope() as session:
        durable = session.scalar(text("SHOW synchronous_commit"))

    assert (relaxed, durable) == ("off", "on")


def test_an_idle_pooled_connection_the_server_closed_is_replaced_before_use(database, monkeypatch):
    import shared.db

    # A pool of one connection of its own, so the dead connection is the one checked out next and
    # the process's shared pools are left alone.
    engine = shared.db.ping_when_idle(create_engine(database, pool_size=1, max_overflow=0))
    with engine.connect() as connection:
        victim = connection.scalar(text("SELECT pg_backend_pid()"))
    # Back in the pool; the server now ends it, as a restart or an idle timeout would.
    with session_scope() as session:
        session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
    monkeypatch.setattr(shared.db, "PING_AFTER_IDLE_S", 0.0)

    with engine.connect() as connection:
        pid = connection.scalar(text("SELECT pg_backend_pid()"))
    engine.dispose()

    assert pid != victim


def test_a_read_scope_runs_outside_a_transaction_and_leaves_pooled_connections_transactional():
    from shared.db import read_scope

    with read_scope() as connection:
        connection.execute(text("SELECT 1"))
        autocommit = connection.connection.dbapi_connection.autocommit
    with session_scope() as session:
        session.execute(text("SELECT 1"))
        afterwards = session.connection().connection.dbapi_connection.autocommit

    assert (autocommit, afterwards) == (True, False)

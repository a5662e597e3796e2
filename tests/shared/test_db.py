"""Engines: recomputable rows commit without waiting for the WAL, everything else durably."""

from __future__ import annotations

from sqlalchemy import text

from shared.db import session_scope


def test_a_non_durable_session_turns_synchronous_commit_off_and_a_default_one_keeps_it():
    with session_scope(durable=False) as session:
        relaxed = session.scalar(text("SHOW synchronous_commit"))
    with session_scope() as session:
        durable = session.scalar(text("SHOW synchronous_commit"))

    assert (relaxed, durable) == ("off", "on")

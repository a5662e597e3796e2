"""Worker status on the embedded default (filesystem broker, SQLite): heartbeats, no broadcast to crash a worker."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from shared.db import session_scope
from shared.models import WorkerHeartbeat
from tests.conftest import private_stack, wait_for

pytestmark = pytest.mark.integration


def test_the_embedded_stack_shows_its_worker_online_and_polling_it_leaves_the_worker_alive(tmp_path: Path):
    from shared.bootstrap import prepare

    url = f"sqlite:///{tmp_path / 'aura.db'}"
    prepare(url)
    with session_scope(url) as session:
        from services.gateway.auth import ensure_key
        from shared.models import Role

        ensure_key(session, "aura_embedded_admin_key_for_this_test", Role.ADMIN)
    env = {"AURA_DATA_DIR": str(tmp_path), "AURA_DATABASE_URL": "", "AURA_BROKER_URL": "",
           "AURA_HEARTBEAT_INTERVAL_S": "1"}
    headers = {"X-API-Key": "aura_embedded_admin_key_for_this_test"}
    with private_stack(env, tmp_path, "embedded") as gateway:
        def workers() -> list[dict]:
            return httpx.get(f"{gateway}/api/v1/workers", headers=headers, timeout=30).json()["workers"]

        wait_for(lambda: bool(workers()), 60, "the embedded worker's heartbeat")
        for _ in range(20):  # the dashboard polls every few seconds
            body = httpx.get(f"{gateway}/api/v1/workers", headers=headers, timeout=30).json()
        assert body["broker"] == "filesystem"
        assert all(q["workers"] for q in body["queues"]) and body["alerts"] == [], body
        with session_scope(url) as session:
            row = session.scalars(select(WorkerHeartbeat)).one()
            first_beat = row.beat_at
        wait_for(lambda: _beat_at(url) > first_beat, 30, "the worker to beat again after the polls (still alive)")
        name = row.name
    with session_scope(url) as session:  # private_stack stopped it with SIGTERM: a clean stop says so
        assert session.get_one(WorkerHeartbeat, name).stopped_at is not None


def _beat_at(url: str):  # type: ignore[no-untyped-def]
    with session_scope(url) as session:
        return session.scalars(select(WorkerHeartbeat.beat_at)).one()

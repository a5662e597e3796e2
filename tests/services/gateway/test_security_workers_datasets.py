"""Security, pipeline health and dataset summaries over HTTP against the real gateway and worker."""

from __future__ import annotations

from datetime import timedelta

import httpx
import numpy as np
import pytest
from sqlalchemy.orm import Session

from shared.db import get_engine, migrate
from shared.models import WorkerHeartbeat, utcnow
from shared.modeltask.registry import get_task
from tests.conftest import wait_for
from tests.support import submit


def test_security_counts_failed_auth_and_refused_uploads_by_code(gateway, new_hospital, operator_headers):
    hospital = new_hospital()
    assert httpx.get(f"{gateway}/api/v1/me", headers={"X-API-Key": "aura_not_a_key"}).status_code == 401
    assert submit(gateway, hospital.headers, b"not safetensors at all").status_code >= 400

    body = httpx.get(f"{gateway}/api/v1/security/summary", headers=operator_headers).json()

    codes = {c["code"]: c for c in body["by_code"]}
    assert codes["bad_key"]["auth"] and body["failed_auth"] >= 1
    assert body["by_hospital"][hospital.id] >= 1 and body["refused_uploads"] >= 1
    assert any(r["hospital_id"] == hospital.id for r in body["recent"])
    assert body["daily"][-1]["auth"] >= 1


def test_security_is_for_operators_only(gateway, new_hospital):
    assert httpx.get(f"{gateway}/api/v1/security/summary", headers=new_hospital().headers).status_code == 403


def test_every_stage_has_the_worker_online(gateway, worker, operator_headers):
    def online() -> list[dict]:
        return httpx.get(f"{gateway}/api/v1/workers", headers=operator_headers, timeout=30).json()["workers"]

    wait_for(lambda: bool(online()), 30, "the session worker's first heartbeat")
    body = httpx.get(f"{gateway}/api/v1/workers", headers=operator_headers, timeout=30).json()
    assert [q["stage"] for q in body["queues"]] == ["evaluate", "fingerprint", "detect", "ledger"]
    assert all(q["workers"] and isinstance(q["depth"], int) for q in body["queues"]), body
    assert not [a for a in body["alerts"] if "no worker consumes" in a] and body["broker"] == "redis"


@pytest.mark.slow
def test_a_stage_no_worker_consumes_and_a_silent_worker_raise_alerts_naming_them(tmp_path):
    from services.gateway.routers import workers

    url = f"sqlite:///{tmp_path / 'aura.db'}"
    migrate(url)
    now = utcnow()
    earlier = now - timedelta(minutes=5)
    with Session(get_engine(url)) as session:
        session.add_all([
            WorkerHeartbeat(name="w1@host", pid=1, queues=["evaluate", "fingerprint", "ledger"], started_at=now,
                            beat_at=now),
            WorkerHeartbeat(name="w2@host", pid=2, queues=["detect"], started_at=now, beat_at=earlier),
            WorkerHeartbeat(name="w3@host", pid=3, queues=["detect"], started_at=now, beat_at=earlier,
                            stopped_at=earlier),
        ])
        session.commit()
        body = workers.pipeline_health(session)

    assert [w.name for w in body.workers] == ["w1@host"]
    assert next(q for q in body.queues if q.stage == "detect").workers == []
    assert [a for a in body.alerts if "no worker consumes the detect queue" in a]
    assert [a for a in body.alerts if a.startswith("worker w2@host silent for")]
    assert not [a for a in body.alerts if "w3@host" in a]  # it said it stopped


def test_dataset_summary_gives_statistics_not_rows(gateway, operator_headers):
    task = get_task("heart-mlp")

    body = httpx.get(f"{gateway}/api/v1/datasets/heart-mlp", headers=operator_headers).json()

    assert body["golden"]["rows"] == len(task.golden)
    assert sum(body["golden_by_centre"].values()) == len(task.golden)
    assert len(body["partitions"]) == 8  # four centres, train and test each
    train = next(p for p in body["partitions"] if p["name"] == "Cleveland" and p["role"] == "train")
    age = next(f for f in train["features"] if f["name"] == "age")
    assert abs(age["mean"]) < 1e-4 and abs(age["std"] - 1) < 1e-3  # z-scored with its own statistics
    assert train["positives"] == int(task.dataset.centre("Cleveland").train.y.sum())
    assert set(train) == {"name", "role", "rows", "positives", "positive_rate", "features"}
    assert np.isclose(body["golden"]["positive_rate"], task.golden.y.mean())


def test_dataset_of_unknown_task_is_404_and_hospital_keys_are_refused(gateway, operator_headers, new_hospital):
    assert httpx.get(f"{gateway}/api/v1/datasets/nope", headers=operator_headers).status_code == 404
    assert httpx.get(f"{gateway}/api/v1/datasets/heart-mlp", headers=new_hospital().headers).status_code == 403

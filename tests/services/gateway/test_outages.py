"""The gateway during outages: 202 when the broker is down (the row is the outbox), 503 when the database is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from services.intake.sweeper import sweep
from shared.db import session_scope
from shared.models import Status, Submission, utcnow
from tests.conftest import free_port, running_gateway, wait_for
from tests.support import perturbed_update, submit

pytestmark = pytest.mark.integration


@pytest.fixture
def without_broker(database: str, tmp_path: Path) -> Iterator[str]:
    """A gateway whose broker is not there (a closed port); its database is the session's."""
    with running_gateway({"AURA_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0"}, tmp_path / "gateway.log") as url:
        yield url


@pytest.fixture
def without_database(database: str, tmp_path: Path) -> Iterator[str]:
    """A gateway whose database is not there (a closed port)."""
    dead = f"postgresql+psycopg2://aura@127.0.0.1:{free_port()}/aura"
    with running_gateway({"AURA_DATABASE_URL": dead}, tmp_path / "gateway.log") as url:
        yield url


def test_with_the_broker_down_an_upload_is_stored_answered_202_and_vetted_once_it_is_back(
        without_broker, worker, new_hospital, new_round):
    hospital, round_ = new_hospital(), new_round()

    response = submit(without_broker, hospital.headers, perturbed_update(seed=70), round_=round_)

    assert response.status_code == 202, response.text
    submission_id = response.json()["id"]
    with session_scope() as session:
        assert session.get_one(Submission, submission_id).status == Status.QUEUED
    assert submission_id in sweep(now=utcnow() + timedelta(hours=1)).requeued  # the session's broker is up

    def recorded() -> bool:
        with session_scope() as session:
            return session.get_one(Submission, submission_id).status == Status.RECORDED

    wait_for(recorded, 90, "the stored submission to be vetted once the broker is reachable")


@pytest.mark.parametrize(("method", "path"), [("get", "/api/v1/submissions"), ("get", "/api/v1/ledger/entries"),
                                              ("post", "/api/v1/submissions")])
def test_with_the_database_down_requests_get_503_with_retry_after(without_database, operator_headers, method, path):
    kwargs = {"files": {"file": ("u", perturbed_update())}, "data": {"round": "1"}} if method == "post" else {}

    response = httpx.request(method, f"{without_database}{path}", headers=operator_headers, timeout=30, **kwargs)

    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert response.json()["detail"]["code"] == "database_unavailable"

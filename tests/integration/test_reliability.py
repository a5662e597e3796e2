"""Redelivered and interrupted work: exactly one verdict and one ledger entry per submission."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis
from celery import Celery
from sqlalchemy import func, select

from aura.processes import worker_cmd
from services.intake.service import Upload, record
from services.intake.sweeper import sweep
from services.ledger.service import verify
from shared.celery_app import make_app, vetting_chain
from shared.db import session_scope
from shared.models import Decision, LedgerEntry, Status, Submission
from shared.settings import Settings
from tests.conftest import DATA_DIR, flush_claimed, spare_broker, start_process, stop_process, wait_for
from tests.support import perturbed_update

MID_CHAIN = (Status.EVALUATED, Status.FINGERPRINTED, Status.DECIDED)
VISIBILITY_S = 5  # Redis hands an unacked message out again after this long (production: 3600 s)
SWEEP_EVERY_S = 5


@pytest.fixture
def private_broker() -> Iterator[tuple[str, Celery]]:
    """A Redis database no other test's worker consumes, and a Celery app that sends to it."""
    url = spare_broker(1)
    flush_claimed(url)
    yield url, make_app(Settings(broker_url=url, broker_visibility_timeout_s=VISIBILITY_S))
    flush_claimed(url)


def _start_worker(broker_url: str):  # type: ignore[no-untyped-def]
    env = {"AURA_BROKER_URL": broker_url, "AURA_BROKER_VISIBILITY_TIMEOUT_S": str(VISIBILITY_S)}
    return start_process(worker_cmd(concurrency=2, name=f"rel-{uuid.uuid4().hex[:6]}"), env=env,
                         log=DATA_DIR / "reliability-worker.log")


def _record_updates(new_hospital, round_: int, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    # A fresh round: in round 1 every earlier test's updates would be these updates' peers, and
    # the stages' time (and so this test's) would grow with the suite.
    ids = []
    for i in range(n):
        hospital = new_hospital()
        submission, _ = record(Upload(hospital.id, "heart-mlp", round_, [perturbed_update(seed=100 + i)]))
        ids.append(submission.id)
    return ids


def _statuses(ids: list[str]) -> list[str]:
    with session_scope() as session:
        return list(session.scalars(select(Submission.status).where(Submission.id.in_(ids))))


def _rows_per_submission(ids: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    with session_scope() as session:
        decisions = dict(session.execute(select(Decision.submission_id, func.count()).where(
            Decision.submission_id.in_(ids)).group_by(Decision.submission_id)).all())
        entries = dict(session.execute(select(LedgerEntry.submission_id, func.count()).where(
            LedgerEntry.submission_id.in_(ids)).group_by(LedgerEntry.submission_id)).all())
    return decisions, entries


def _assert_exactly_once(ids: list[str]) -> None:
    decisions, entries = _rows_per_submission(ids)
    assert decisions == dict.fromkeys(ids, 1)
    assert entries == dict.fromkeys(ids, 1)
    with session_scope() as session:
        assert verify(session).ok


def test_chain_delivered_three_times_gives_one_verdict_and_one_ledger_entry(private_broker, new_hospital,
                                                                            new_round):
    url, app = private_broker
    [submission_id] = _record_updates(new_hospital, new_round(), 1)
    worker = _start_worker(url)
    try:
        for _ in range(2):  # two copies in flight at once
            vetting_chain(submission_id, on=app).apply_async()
        wait_for(lambda: _statuses([submission_id]) == [Status.RECORDED], 90, "the submission to be recorded")
        vetting_chain(submission_id, on=app).apply_async()  # and a late third copy
        client = redis.Redis.from_url(url)
        wait_for(lambda: sum(int(client.llen(q)) for q in ("evaluate", "fingerprint", "detect", "ledger")) == 0
                 and not client.hlen("unacked"), 60, "the late copy to be consumed")
    finally:
        stop_process(worker)
    _assert_exactly_once([submission_id])


def test_worker_killed_mid_chain_still_gives_one_verdict_and_entry_each(private_broker, new_hospital, new_round):
    url, app = private_broker
    ids = _record_updates(new_hospital, new_round(), 8)
    worker = _start_worker(url)
    for submission_id in ids:
        vetting_chain(submission_id, on=app).apply_async()

    wait_for(lambda: any(s in MID_CHAIN for s in _statuses(ids)), 90, "a submission to be mid-chain")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)
    assert set(_statuses(ids)) != {Status.RECORDED}, "the kill came too late to interrupt anything"

    # The messages the dead worker held were never acked (acks_late): Redis hands them out again
    # once their visibility timeout passes, and the idempotent stages finish each chain once. A
    # message that BRPOP had already popped but kombu had not yet recorded as unacked died with the
    # worker: the sweeper finds its submission stuck and sends it again, as `aura up`'s does.
    replacement = _start_worker(url)
    try:
        wait_for(_recorded_with_sweeper(ids, app), 180, "every submission to be recorded")
    finally:
        stop_process(replacement)
    _assert_exactly_once(ids)


def _recorded_with_sweeper(ids: list[str], app: Celery) -> Callable[[], bool]:
    """A predicate that also sweeps the test's submissions every few seconds, like the sweeper process."""
    last = [time.monotonic()]

    def recorded() -> bool:
        if time.monotonic() - last[0] >= SWEEP_EVERY_S:
            last[0] = time.monotonic()
            sweep(on=app, only=ids)  # the session's stuck_after_s (30 s): only what truly stalled
        return set(_statuses(ids)) == {Status.RECORDED}

    return recorded

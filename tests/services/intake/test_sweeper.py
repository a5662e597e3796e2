"""The sweeper re-sends lost work and turns hopeless submissions into recorded `error` verdicts."""

from __future__ import annotations

from datetime import timedelta

from celery import Celery

from services.intake.service import Upload, record
from services.intake.sweeper import sweep
from shared.db import session_scope
from shared.models import Decision, LedgerEntry, Status, Submission, utcnow
from shared.settings import get_settings
from tests.conftest import free_port, wait_for
from tests.support import perturbed_update


def _status(submission_id: str) -> str:
    with session_scope() as session:
        submission = session.get(Submission, submission_id)
        assert submission is not None
        return submission.status


def test_submission_whose_message_was_lost_is_requeued_and_recorded(worker, new_hospital):
    hospital = new_hospital()
    submission, _ = record(Upload(hospital.id, "heart-mlp", 1, [perturbed_update(seed=41)]))  # never enqueued

    report = sweep(now=utcnow() + timedelta(hours=1))

    assert submission.id in report.requeued
    wait_for(lambda: _status(submission.id) == Status.RECORDED, 90, "the re-queued submission to be recorded")


def test_fresh_submission_is_left_alone(new_hospital):
    hospital = new_hospital()
    submission, _ = record(Upload(hospital.id, "heart-mlp", 1, [perturbed_update(seed=42)]))

    report = sweep()

    assert submission.id not in report.requeued + report.errored


def test_submission_out_of_attempts_gets_an_error_verdict_in_the_ledger(worker, new_hospital):
    hospital = new_hospital()
    submission, _ = record(Upload(hospital.id, "heart-mlp", 1, [perturbed_update(seed=43)]))
    with session_scope() as session:  # as if every earlier attempt had failed
        row = session.get(Submission, submission.id)
        assert row is not None
        row.attempts = get_settings().max_attempts
        row.last_error = "TimeLimitExceeded: blob gone"

    report = sweep(now=utcnow() + timedelta(hours=1))

    assert report.errored == [submission.id]
    wait_for(lambda: _status(submission.id) == Status.RECORDED, 60, "the error verdict to be recorded")
    with session_scope() as session:
        decision = session.get(Decision, submission.id)
        entry = session.query(LedgerEntry).filter_by(submission_id=submission.id).one()
        assert decision is not None and decision.verdict == "error"
        assert "blob gone" in decision.reasons[0]["text"]
        assert b'"verdict":"error"' in entry.entry


def _down_broker() -> Celery:
    """A Celery app whose broker is not there (a closed port): every send fails at once."""
    down = Celery("down", broker=f"redis://127.0.0.1:{free_port()}/0")
    down.conf.update(task_publish_retry=False, broker_connection_retry=False, broker_connection_timeout=1)
    return down


def test_a_broker_outage_uses_up_no_attempt_and_the_submission_is_vetted_after_it(worker, new_hospital):
    hospital = new_hospital()
    submission, _ = record(Upload(hospital.id, "heart-mlp", 1, [perturbed_update(seed=44)]))  # never enqueued
    down = _down_broker()

    # Sweeps through an outage longer than max_attempts stuck periods: every send is refused.
    for hours in range(1, get_settings().max_attempts + 3):
        report = sweep(now=utcnow() + timedelta(hours=hours), on=down)
        assert submission.id not in report.errored and submission.id in report.unsent
    with session_scope() as session:
        row = session.get(Submission, submission.id)
        assert row is not None and (row.attempts, row.resends) == (0, 0)

    report = sweep(now=utcnow() + timedelta(hours=10))  # the broker is back
    assert submission.id in report.requeued
    wait_for(lambda: _status(submission.id) == Status.RECORDED, 90, "the submission to be vetted after the outage")
    with session_scope() as session:
        decision = session.get(Decision, submission.id)
        assert decision is not None and decision.verdict != "error"


def test_re_sends_that_come_to_nothing_end_in_an_error_verdict(new_hospital, monkeypatch):
    monkeypatch.setenv("AURA_MAX_RESENDS", "2")
    get_settings.cache_clear()
    try:
        hospital = new_hospital()
        submission, _ = record(Upload(hospital.id, "heart-mlp", 1, [perturbed_update(seed=45)]))
        with session_scope() as session:  # sent twice already, no stage ever reported back
            row = session.get(Submission, submission.id)
            assert row is not None
            row.resends = 2

        report = sweep(now=utcnow() + timedelta(hours=1), on=_down_broker())
    finally:
        get_settings.cache_clear()

    assert submission.id in report.errored
    with session_scope() as session:
        decision = session.get(Decision, submission.id)
        assert decision is not None and "2 re-sends" in decision.reasons[0]["text"]

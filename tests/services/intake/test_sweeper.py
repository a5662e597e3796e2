"""The sweeper re-sends lost work and turns hopeless submissions into recorded `error` verdicts."""

from __future__ import annotations

from datetime import timedelta

from services.intake.service import Upload, record
from services.intake.sweeper import sweep
from shared.db import session_scope
from shared.models import Decision, LedgerEntry, Status, Submission, utcnow
from shared.settings import get_settings
from tests.conftest import wait_for
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

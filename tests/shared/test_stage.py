"""Stages get the submission id and load what they need; the wrapper loads nothing."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy.orm import Session

from services.intake.service import Upload, record
from shared.celery_app import Queue, vetting_chain
from shared.db import session_scope
from shared.models import Decision, Evaluation, Fingerprint, Status, Submission
from shared.pipeline import PIPELINE, stage
from shared.stage import run_stage
from tests import support
from tests.conftest import wait_for
from tests.support import perturbed_update


def test_run_stage_hands_the_stage_a_session_and_the_submission_id_only(database):
    support.STAGE_CALLS.clear()
    recording = dataclasses.replace(stage(Queue.EVALUATE), function="tests.support:recording_stage")

    run_stage(recording, "any-id")

    # No submission row needed: the wrapper does not look it up.
    assert [(isinstance(session, Session), submission_id) for session, submission_id in support.STAGE_CALLS] == \
        [(True, "any-id")]


@pytest.mark.parametrize("stage_", PIPELINE, ids=[s.queue.value for s in PIPELINE])
def test_every_stage_raises_lookup_error_for_a_submission_that_does_not_exist(database, stage_):
    with pytest.raises(LookupError, match=r"^submission no-such-id not found$"):
        run_stage(stage_, "no-such-id")


@pytest.mark.parametrize("arrives", [Queue.FINGERPRINT, Queue.DETECT, Queue.LEDGER])
def test_a_stage_that_finds_an_earlier_result_missing_runs_that_stage_again(worker, new_hospital, arrives):
    # As after a lost commit: the earlier stages' tasks ran and sent the next message, but none of
    # their rows survived, so the message for `arrives` finds the submission still queued.
    submission, _ = record(Upload(new_hospital().id, "heart-mlp", 1, [perturbed_update(seed=60 + len(arrives))]))

    vetting_chain(submission.id, arrives).apply_async()

    def recorded() -> bool:
        with session_scope() as session:
            return session.get_one(Submission, submission.id).status == Status.RECORDED

    wait_for(recorded, 90, f"the submission to be recorded from a {arrives.value} message")
    with session_scope() as session:
        assert session.get(Evaluation, submission.id) is not None
        assert session.get(Fingerprint, submission.id) is not None
        decision = session.get(Decision, submission.id)
        assert decision is not None and decision.verdict in ("accepted", "rejected")
        assert session.get_one(Submission, submission.id).attempts == 0  # nothing failed on the way

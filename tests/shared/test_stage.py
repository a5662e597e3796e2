"""Stages get the submission id and load what they need; the wrapper loads nothing."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from fl.inprocess_vetting import STAGES
from shared.stage import run_stage


def test_run_stage_hands_the_stage_a_session_and_the_submission_id_only(database):
    seen: list[tuple[bool, str]] = []

    run_stage(lambda session, submission_id: seen.append((isinstance(session, Session), submission_id)), "any-id",
              durable=True)

    assert seen == [(True, "any-id")]  # no submission row needed: the wrapper does not look it up


@pytest.mark.parametrize(("stage", "durable"), STAGES, ids=[stage.__name__ for stage, _ in STAGES])
def test_every_stage_raises_lookup_error_for_a_submission_that_does_not_exist(database, stage, durable):
    with pytest.raises(LookupError, match=r"^submission no-such-id not found$"):
        run_stage(stage, "no-such-id", durable=durable)

"""The evaluator stage: golden-set metrics of the update and of the round's global model."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from services.evaluator.metrics import golden_metrics
from shared.models import Evaluation, Status
from shared.modeltask.registry import get_task
from shared.stage import advance, load_submission, reached
from shared.weights import Weights, global_model, load_weights


def score_weights(task_name: str, weights: Weights) -> dict[str, float | None]:
    """Golden-set metrics of the task's model carrying these weights."""
    task = get_task(task_name)
    return golden_metrics(task.logits(weights, task.golden.x), task.golden.y)


@lru_cache(maxsize=64)
def _global_metrics(task_name: str, digest: str) -> dict[str, float | None]:
    # Every update of a round is compared with the same global model: compute its metrics once.
    return score_weights(task_name, load_weights(digest))


def evaluate(session: Session, submission_id: str) -> None:
    """Write the submission's Evaluation row (once) and mark it evaluated."""
    submission = load_submission(session, submission_id)
    if not reached(submission, Status.EVALUATED):
        reference = global_model(session, submission.task, submission.round)
        if reference is None:
            raise LookupError(f"no global model for round {submission.round} of {submission.task}")
        row: dict[str, Any] = {
            "update_metrics": score_weights(submission.task, load_weights(submission.file_sha256)),
            "global_metrics": _global_metrics(submission.task, reference.file_sha256),
        }
        session.add(Evaluation(submission_id=submission.id, **row))
    advance(submission, Status.EVALUATED)

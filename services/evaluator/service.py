"""The evaluator stage: golden-set metrics of the update and of the round's global model."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.models import Evaluation, Hospital, Status
from shared.modeltask.registry import get_task
from shared.stage import advance, load_submission, reached
from shared.weights import Weights, load_weights, round_model


def score_weights(task_name: str, weights: Weights, centre: str | None = None) -> dict[str, float | None]:
    """Golden-set metrics of the task's model carrying these weights, and its loss on the centre's own golden rows.

    `own_centre_loss` is None without a centre or golden rows of it. One forward pass serves both.
    """
    task = get_task(task_name)
    outputs = task.outputs(weights, task.golden.x)
    metrics = task.objective.metrics(outputs, task.golden.y)
    rows = task.golden_centre == centre
    own = task.objective.metrics(outputs[rows], task.golden.y[rows]) if centre is not None and rows.any() else None
    return {**metrics, "own_centre_loss": None if own is None else own["loss"]}


@lru_cache(maxsize=256)
def _global_metrics(task_name: str, digest: str, centre: str | None) -> dict[str, float | None]:
    # Every update of a round is compared with the same global model: compute its metrics once.
    weights = load_weights(digest)
    return score_weights(task_name, weights, centre)


# By (database, hospital): the centre a hospital was registered with never changes.
_centres: dict[tuple[str, str], str | None] = {}


def _centre(session: Session, hospital_id: str) -> str | None:
    key = (str(session.get_bind().engine.url), hospital_id)
    if key not in _centres:
        if len(_centres) >= 65536:
            _centres.clear()
        _centres[key] = session.scalar(select(Hospital.centre).where(Hospital.id == hospital_id))
    return _centres[key]


def evaluate(session: Session, submission_id: str) -> None:
    """Write the submission's Evaluation row (once) and mark it evaluated."""
    submission = load_submission(session, submission_id)
    if not reached(submission, Status.EVALUATED):
        reference = round_model(session, submission)
        centre = _centre(session, submission.hospital_id)
        weights = load_weights(submission.file_sha256)
        row: dict[str, Any] = {
            "update_metrics": score_weights(submission.task, weights, centre),
            "global_metrics": _global_metrics(submission.task, reference.file_sha256, centre),
        }
        session.add(Evaluation(submission_id=submission.id, **row))
    advance(submission, Status.EVALUATED)

"""The fingerprinter stage: attribution fingerprint of the update and of the global model."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from sqlalchemy.orm import Session

from services.fingerprinter.attributions import Explainer, fingerprint
from shared.models import Fingerprint, Status, Submission
from shared.modeltask.registry import get_task
from shared.stage import advance, load_submission, reached
from shared.weights import Weights, earlier_peers, load_weights, round_model

METHOD = "deeplift-rescale"  # equals shap.DeepExplainer (tested on the heart models and the digits CNN)


@lru_cache(maxsize=8)
def _explainer(task_name: str) -> Explainer:
    # One per task and process: its model and pair batch are built once, then reused per update.
    task = get_task(task_name)
    return Explainer(task.build(), task.objective, task.probe.x, task.probe.y, task.background)


def fingerprint_weights(task_name: str, weights: Weights) -> tuple[list[float], list[float]]:
    """Mean signed and mean absolute SHAP value per input on the task's probe set."""
    return fingerprint(_explainer(task_name)({k: torch.from_numpy(v) for k, v in weights.items()}))


@lru_cache(maxsize=512)
def _cached_fingerprint(task_name: str, digest: str) -> tuple[list[float], list[float]]:
    return fingerprint_weights(task_name, load_weights(digest))


def _peer_reference(session: Session, submission: Submission) -> list[float] | None:
    # The median fingerprint of the round's updates that arrived earlier: computed from their
    # weights (cached by digest), not read from their rows, so the result does not depend on
    # which worker finished first.
    peers = earlier_peers(session, submission)
    if not peers:
        return None
    prints = [_cached_fingerprint(submission.task, p.file_sha256)[0] for p in peers]
    return [float(v) for v in np.median(np.asarray(prints), axis=0)]


def fingerprint_submission(session: Session, submission_id: str) -> None:
    """Write the submission's Fingerprint row (once) and mark it fingerprinted."""
    submission = load_submission(session, submission_id)
    if not reached(submission, Status.FINGERPRINTED):
        reference = round_model(session, submission)
        signed, absolute = _cached_fingerprint(submission.task, submission.file_sha256)
        session.add(
            Fingerprint(
                submission_id=submission.id,
                method=METHOD,
                features=list(get_task(submission.task).input_names),
                attribution=signed,
                attribution_abs=absolute,
                reference=_cached_fingerprint(submission.task, reference.file_sha256)[0],
                peer_reference=_peer_reference(session, submission),
            )
        )
    advance(submission, Status.FINGERPRINTED)

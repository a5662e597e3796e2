"""The detector stage: gather the evidence, compute features, score, and write the verdict."""

from __future__ import annotations

from functools import lru_cache

from sklearn.ensemble import IsolationForest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.detector import features as feat
from services.detector.scoring import decide, fit_forest, forest_reason, forest_vector, rule_reasons
from shared.models import Decision, Evaluation, Fingerprint, Status, Submission, Verdict, utcnow
from shared.settings import get_settings
from shared.stage import advance
from shared.weights import earlier_peers, flatten, global_model, load_weights

FOREST_REFIT_EVERY = 25  # refit when accepted history grows by this much; keeps detect cheap
HISTORY_LIMIT = 1000


def _accepted_history(session: Session, task: str, before: Submission) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision)
            .join(Submission, Submission.id == Decision.submission_id)
            .where(Submission.task == task, Decision.verdict == Verdict.ACCEPTED,
                   Submission.created_at < before.created_at)
            .order_by(Submission.created_at)
            .limit(HISTORY_LIMIT)
        )
    )


@lru_cache(maxsize=16)
def _forest(task: str, rows: tuple[tuple[float, ...], ...]) -> tuple[IsolationForest, list[float]]:
    return fit_forest(rows)


def build_inputs(session: Session, submission: Submission, history: list[Decision]) -> feat.Inputs:
    """Load every piece of evidence the features need from the database and blob store."""
    evaluation = session.get(Evaluation, submission.id)
    fingerprint = session.get(Fingerprint, submission.id)
    reference = global_model(session, submission.task, submission.round)
    if evaluation is None or fingerprint is None or reference is None:
        raise LookupError(f"submission {submission.id} is missing its evaluation, fingerprint or global model")
    return feat.Inputs(
        update_metrics=evaluation.update_metrics,
        global_metrics=evaluation.global_metrics,
        update=flatten(load_weights(submission.file_sha256)),
        global_weights=flatten(load_weights(reference.file_sha256)),
        peers=[flatten(load_weights(p.file_sha256)) for p in earlier_peers(session, submission)],
        history_norms=[d.features["update_norm"] for d in history if d.features.get("update_norm") is not None],
        feature_names=fingerprint.features,
        attribution=fingerprint.attribution,
        attribution_global=fingerprint.reference,
        attribution_peers=fingerprint.peer_reference,
    )


def detect(session: Session, submission: Submission) -> None:
    """Write the submission's Decision row (once) and mark it decided."""
    if session.get(Decision, submission.id) is None:
        settings = get_settings()
        history = _accepted_history(session, submission.task, submission)
        features = feat.compute(build_inputs(session, submission, history))
        reasons = rule_reasons(features)
        if len(history) >= settings.forest_min_history:
            # Fit on a prefix whose length is a multiple of FOREST_REFIT_EVERY, so the forest is
            # refitted only every so often and is the same for every worker that sees this history.
            usable = len(history) - len(history) % FOREST_REFIT_EVERY or len(history)
            rows = tuple(tuple(forest_vector(d.features)) for d in history[:usable])
            forest, scores = _forest(submission.task, rows)
            reasons.append(forest_reason(forest, scores, forest_vector(features)))
        verdict, score, ranked = decide(reasons, settings.detector_threshold)
        session.add(Decision(submission_id=submission.id, verdict=verdict, score=score,
                             threshold=settings.detector_threshold, reasons=ranked, features=features))
        submission.verdict = verdict
        submission.decided_at = utcnow()
    advance(submission, Status.DECIDED)

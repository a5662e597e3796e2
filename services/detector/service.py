"""The detector stage: gather the evidence, compute features, score, and write the verdict."""

from __future__ import annotations

from sklearn.ensemble import IsolationForest
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from services.detector import features as feat
from services.detector.scoring import decide, fit_forest, forest_reason, forest_vector, rule_reasons
from shared.models import Decision, Evaluation, Fingerprint, Status, Submission, Verdict, utcnow
from shared.settings import get_settings
from shared.stage import advance
from shared.weights import earlier_peers, flatten, global_model, load_weights

FOREST_REFIT_EVERY = 25  # refit when accepted history grows by this much; keeps detect cheap
HISTORY_LIMIT = 2000  # the forest learns from at most this much accepted history
NORM_HISTORY = 50  # recent accepted norms: the reference when a round has fewer than 2 peers


def _accepted(task: str, before: Submission) -> Select[Decision]:
    return (select(Decision).join(Submission, Submission.id == Decision.submission_id)
            .where(Submission.task == task, Decision.verdict == Verdict.ACCEPTED,
                   Submission.created_at < before.created_at))


# Fitted forests by (database, task, history size): loading and refitting happen only on a miss.
_forests: dict[tuple[str, str, int], tuple[IsolationForest, list[float]]] = {}


def _forest_for(session: Session, submission: Submission) -> tuple[IsolationForest, list[float]] | None:
    """The forest over the oldest accepted history, refitted each time that grows by FOREST_REFIT_EVERY."""
    count_query = select(func.count()).select_from(_accepted(submission.task, submission).subquery())
    count = min(session.scalar(count_query) or 0, HISTORY_LIMIT)
    usable = count - count % FOREST_REFIT_EVERY
    if usable < max(get_settings().forest_min_history, 1):
        return None
    key = (str(session.get_bind().engine.url), submission.task, usable)
    if key not in _forests:
        # A fixed prefix of history: every worker that sees this much history fits the same forest.
        decisions = session.scalars(_accepted(submission.task, submission)
                                    .order_by(Submission.created_at, Submission.id).limit(usable))
        if len(_forests) >= 16:
            _forests.pop(next(iter(_forests)))
        _forests[key] = fit_forest([forest_vector(d.features) for d in decisions])
    return _forests[key]


def build_inputs(session: Session, submission: Submission) -> feat.Inputs:
    """Load every piece of evidence the features need from the database and blob store."""
    evaluation = session.get(Evaluation, submission.id)
    fingerprint = session.get(Fingerprint, submission.id)
    reference = global_model(session, submission.task, submission.round)
    if evaluation is None or fingerprint is None or reference is None:
        raise LookupError(f"submission {submission.id} is missing its evaluation, fingerprint or global model")
    peers = [flatten(load_weights(p.file_sha256)) for p in earlier_peers(session, submission)]
    history_norms: list[float] = []
    if len(peers) < 2:
        recent = session.scalars(_accepted(submission.task, submission)
                                 .order_by(Submission.created_at.desc()).limit(NORM_HISTORY))
        history_norms = [d.features["update_norm"] for d in recent if d.features.get("update_norm") is not None]
    return feat.Inputs(
        update_metrics=evaluation.update_metrics,
        global_metrics=evaluation.global_metrics,
        update=flatten(load_weights(submission.file_sha256)),
        global_weights=flatten(load_weights(reference.file_sha256)),
        peers=peers,
        history_norms=history_norms,
        feature_names=fingerprint.features,
        attribution=fingerprint.attribution,
        attribution_global=fingerprint.reference,
        attribution_peers=fingerprint.peer_reference,
    )


def detect(session: Session, submission: Submission) -> None:
    """Write the submission's Decision row (once) and mark it decided."""
    if session.get(Decision, submission.id) is None:
        settings = get_settings()
        features = feat.compute(build_inputs(session, submission))
        reasons = rule_reasons(features)
        forest = _forest_for(session, submission)
        if forest is not None:
            reasons.append(forest_reason(*forest, forest_vector(features)))
        verdict, score, ranked = decide(reasons, settings.detector_threshold)
        session.add(Decision(submission_id=submission.id, verdict=verdict, score=score,
                             threshold=settings.detector_threshold, reasons=ranked, features=features))
        submission.verdict = verdict
        submission.decided_at = utcnow()
    advance(submission, Status.DECIDED)

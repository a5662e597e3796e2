"""The detector stage: gather the evidence, compute features, score, and write the verdict.

A verdict uses only evidence that is fixed when the update arrives, so it is the same whichever
worker runs it and whenever: the round's global model and golden-set metrics, the updates of the
round that arrived earlier (their weights, not their verdicts, which may not exist yet), and the
closed rounds of the same federation run. History never crosses runs, and within a run it is the
chain of rounds before this one whose global models each continue the one before (the next
global model is an aggregate of what the earlier round accepted, see features.continues): the
round just before gives the reference step, norms and crafted-update checks, and the whole chain
the Isolation Forest's history.
"""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.detector import features as feat
from services.detector.calibrate import calibration_for
from services.detector.calibration import Calibration
from services.detector.forest import Forest, fit_forest, forest_reason, forest_vector
from services.detector.scoring import decide, rule_reasons
from shared.evidence import evidence_digest
from shared.federations import Scope, calibration_rounds
from shared.models import Decision, Evaluation, Fingerprint, Status, Submission, Verdict, utcnow
from shared.settings import get_settings
from shared.stage import advance, load_submission, reached
from shared.weights import earlier_peers, flatten, global_model, load_weights, scope_of

HISTORY_ROUNDS = 50  # the forest learns from at most the federation's last 50 closed rounds

# Fitted forests by (database, run, its rounds): closed rounds never change, so a fit is reused by
# every update of the round and by every worker that sees the same rounds.
_forests: dict[tuple[str, Scope, tuple[int, ...]], Forest] = {}
# Whether round r - 1 is round r's parent, by (database, run, r): fixed once round r - 1 closed.
_parents: dict[tuple[str, Scope, int], bool] = {}


def _is_parent(session: Session, scope: Scope, round_: int) -> bool:
    """Whether round `round_` - 1 of the run is the previous round of the same training (its model continues)."""
    key = (str(session.get_bind().engine.url), scope, round_)
    if key not in _parents:
        current = global_model(session, scope, round_)
        previous = previous_round(session, scope, round_ - 1)
        _parents[key] = current is not None and previous is not None and \
            feat.continues(previous, flatten(load_weights(current.file_sha256)))
        if len(_parents) > 65536:
            _parents.clear()
    return _parents[key]


def federation_rounds(session: Session, scope: Scope, round_: int) -> list[int]:
    """The run's closed rounds before `round_`, oldest first (at most HISTORY_ROUNDS)."""
    rounds: list[int] = []
    while len(rounds) < HISTORY_ROUNDS and _is_parent(session, scope, round_):
        round_ -= 1
        rounds.append(round_)
    return rounds[::-1]


def previous_round(session: Session, scope: Scope, round_: int) -> feat.PreviousRound | None:
    """Round `round_` of a run as AURA decided it: its global model and the updates it accepted."""
    reference = global_model(session, scope, round_)
    if reference is None:
        return None
    rows = session.execute(
        select(Submission, Fingerprint)
        .join(Decision, Decision.submission_id == Submission.id)
        .outerjoin(Fingerprint, Fingerprint.submission_id == Submission.id)
        .where(Submission.federation == scope.federation, Submission.run == scope.run, Submission.round == round_,
               Decision.verdict == Verdict.ACCEPTED)
        .order_by(Submission.created_at, Submission.id)).all()
    accepted = {s.hospital_id: flatten(load_weights(s.file_sha256)) for s, _ in rows}
    shifts = {s.hospital_id: (np.asarray(fp.attribution) - np.asarray(fp.reference)).tolist()
              for s, fp in rows if fp is not None}
    examples = {s.hospital_id: float(s.num_examples) for s, _ in rows if s.num_examples}
    return feat.PreviousRound(flatten(load_weights(reference.file_sha256)), accepted, shifts, examples)


def _forest_for(session: Session, submission: Submission, rounds: list[int]) -> Forest | None:
    """The forest over the accepted updates of the federation's closed rounds (None while too few)."""
    window = tuple(rounds[-HISTORY_ROUNDS:])
    scope = scope_of(submission)
    key = (str(session.get_bind().engine.url), scope, window)
    if key not in _forests:
        decisions = session.scalars(
            select(Decision).join(Submission, Submission.id == Decision.submission_id)
            .where(Submission.federation == scope.federation, Submission.run == scope.run,
                   Submission.round.in_(window),
                   Decision.verdict == Verdict.ACCEPTED)
            .order_by(Submission.round, Submission.created_at, Submission.id)).all()
        if len(decisions) < max(get_settings().forest_min_history, 2):
            return None
        if len(_forests) >= 16:
            _forests.pop(next(iter(_forests)))
        _forests[key] = fit_forest([forest_vector(d.features) for d in decisions])
    return _forests[key]


def build_inputs(session: Session, submission: Submission, rounds: list[int], calibration: Calibration) \
        -> tuple[feat.Inputs, Evaluation, Fingerprint]:
    """Load every piece of evidence the features need from the database and blob store (and the rows it came from)."""
    evidence = session.execute(
        select(Evaluation, Fingerprint).join(Fingerprint, Fingerprint.submission_id == Evaluation.submission_id)
        .where(Evaluation.submission_id == submission.id)).first()
    reference = global_model(session, scope_of(submission), submission.round)
    if evidence is None or reference is None:
        raise LookupError(f"submission {submission.id} is missing its evaluation, fingerprint or global model")
    evaluation, fingerprint = evidence
    peers = {p.hospital_id: flatten(load_weights(p.file_sha256)) for p in earlier_peers(session, submission)}
    return feat.Inputs(
        hospital=submission.hospital_id,
        update_metrics=evaluation.update_metrics,
        global_metrics=evaluation.global_metrics,
        update=flatten(load_weights(submission.file_sha256)),
        global_weights=flatten(load_weights(reference.file_sha256)),
        peers=peers,
        previous=previous_round(session, scope_of(submission), rounds[-1]) if rounds else None,
        feature_names=fingerprint.features,
        attribution=fingerprint.attribution,
        attribution_global=fingerprint.reference,
        honest_scale=calibration.honest_scale,
    ), evaluation, fingerprint


def detect(session: Session, submission_id: str) -> None:
    """Write the submission's Decision row (once) and mark it decided."""
    submission = load_submission(session, submission_id)
    if not reached(submission, Status.DECIDED):
        settings = get_settings()
        rounds = federation_rounds(session, scope_of(submission), submission.round)
        calibration = calibration_for(session, submission.federation, submission.task)
        inputs, evaluation, fingerprint = build_inputs(session, submission, rounds, calibration)
        features = {**feat.compute(inputs), "calibration": calibration.name}
        reasons = rule_reasons(features, calibration.rules, calibration.against, calibration.against_slope)
        forest = _forest_for(session, submission, rounds) if rounds else None
        if forest is not None:
            reasons.append(forest_reason(forest, forest_vector(features)))
        verdict, score, ranked = decide(reasons, settings.detector_threshold)
        if submission.round <= calibration_rounds(session, scope_of(submission)):
            # A calibration round: the operator vouches for its updates. The score and reasons
            # stay what the detector found; the verdict is the operator's.
            features["calibration_round_verdict"] = verdict  # what the detector alone would have said
            verdict = Verdict.ACCEPTED
        session.add(Decision(submission_id=submission.id, verdict=verdict, score=score,
                             threshold=settings.detector_threshold, reasons=ranked, features=features,
                             evidence_sha256=evidence_digest(evaluation, fingerprint, features),
                             calibration=calibration.name))
        submission.verdict = verdict
        submission.decided_at = utcnow()
    advance(submission, Status.DECIDED)

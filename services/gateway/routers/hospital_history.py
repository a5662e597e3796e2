"""A hospital's record over rounds: verdicts, scores and how its attribution fingerprint drifts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from services.gateway.auth import PrincipalDep
from services.gateway.deps import SessionDep
from services.gateway.insights.numbers import top_signal
from services.gateway.limits import IdPath
from services.gateway.schemas.analytics import HospitalHistory, RoundPoint
from services.gateway.visibility import may_read
from shared.models import Decision, Fingerprint, Hospital, Submission, Verdict

router = APIRouter(prefix="/api/v1/hospitals", tags=["hospitals"])


def distance(a: Sequence[Any], b: Sequence[Any]) -> float | None:
    """Euclidean distance between two attribution vectors (None when they do not line up)."""
    if len(a) != len(b) or not a:
        return None
    return math.sqrt(sum((float(x) - float(y)) ** 2 for x, y in zip(a, b, strict=True)))


@router.get("/{hospital_id}/history", response_model=HospitalHistory)
def hospital_history(hospital_id: IdPath, who: PrincipalDep, session: SessionDep) -> HospitalHistory:
    """Per round: verdict, score, top reason, and fingerprint drift from the global model and the previous round."""
    hospital = session.get(Hospital, hospital_id)
    if hospital is None or not may_read(who, hospital_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no hospital {hospital_id} visible to this key")
    rows = session.execute(
        select(Submission, Decision, Fingerprint)
        .outerjoin(Decision, Decision.submission_id == Submission.id)
        .outerjoin(Fingerprint, Fingerprint.submission_id == Submission.id)
        .where(Submission.hospital_id == hospital_id)
        .order_by(Submission.task, Submission.round, Submission.created_at)
    ).all()
    points: list[RoundPoint] = []
    previous: dict[str, list[Any]] = {}  # per task: the last round's attribution
    for submission, decision, fingerprint in rows:
        attribution = fingerprint.attribution if fingerprint else None
        points.append(RoundPoint(
            submission_id=submission.id, task=submission.task, round=submission.round, status=submission.status,
            verdict=submission.verdict, score=decision.score if decision else None,
            threshold=decision.threshold if decision else None,
            top_signal=top_signal(decision.reasons) if decision else None,
            drift_from_global=distance(attribution, fingerprint.reference) if fingerprint and attribution else None,
            drift_from_previous=distance(attribution, previous[submission.task])
            if attribution and submission.task in previous else None,
            created_at=submission.created_at,
        ))
        if attribution:
            previous[submission.task] = attribution
    accepted = sum(1 for p in points if p.verdict == Verdict.ACCEPTED)
    rejected = sum(1 for p in points if p.verdict == Verdict.REJECTED)
    return HospitalHistory(hospital_id=hospital.id, name=hospital.name, submissions=len(points), accepted=accepted,
                           rejected=rejected,
                           acceptance_rate=accepted / (accepted + rejected) if accepted + rejected else None,
                           rounds=points)

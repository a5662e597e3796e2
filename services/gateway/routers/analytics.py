"""Trends for the Analytics view: volume and verdicts per day, attacks by signal and hospital, score spread."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from services.gateway.auth import PrincipalDep
from services.gateway.deps import SessionDep
from services.gateway.insights.numbers import day_of, histogram, percentile, seconds_between, top_signal
from services.gateway.limits import IdQuery
from services.gateway.schemas.analytics import (
    Attacks,
    DailyPoint,
    DailySignals,
    HospitalAttacks,
    ScoreDistribution,
    SignalCount,
)
from services.gateway.visibility import scoped
from shared.models import Decision, Submission, Verdict
from shared.settings import get_settings

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])

Days = Annotated[int, Query(ge=1, le=365, description="how many days back from today (UTC)")]
SCORE_BINS = 20  # scores are severities in [0, 1]: twenty bins of 0.05


def _since(days: int) -> datetime:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days - 1)


@router.get("/daily", response_model=list[DailyPoint])
def daily(who: PrincipalDep, session: SessionDep, days: Days = 14) -> list[DailyPoint]:
    """Per UTC day: submissions, verdicts, and the median seconds to verdict (every day, zeros included)."""
    since = _since(days)
    rows = session.execute(scoped(select(Submission.created_at, Submission.decided_at, Submission.verdict)
                                  .where(Submission.created_at >= since), who)).all()
    per_day: dict[str, list[tuple[datetime, datetime | None, str | None]]] = defaultdict(list)
    for created, decided, verdict in rows:
        per_day[day_of(created)].append((created, decided, verdict))
    out = []
    for offset in range(days):
        day = (since + timedelta(days=offset)).date().isoformat()
        items = per_day.get(day, [])
        verdicts = Counter(v for _, _, v in items)
        latencies = [seconds_between(c, d) for c, d, _ in items if d is not None]
        out.append(DailyPoint(day=day, submitted=len(items), accepted=verdicts[Verdict.ACCEPTED],
                              rejected=verdicts[Verdict.REJECTED], errors=verdicts[Verdict.ERROR],
                              pending=verdicts[None], time_to_verdict_p50_s=percentile(latencies, 50)))
    return out


@router.get("/attacks", response_model=Attacks)
def attacks(who: PrincipalDep, session: SessionDep, days: Days = 30) -> Attacks:
    """Rejections grouped by their top signal, by hospital, and by day."""
    since = _since(days)
    rows = session.execute(scoped(
        select(Submission.hospital_id, Submission.created_at, Submission.verdict, Decision.reasons)
        .outerjoin(Decision, Decision.submission_id == Submission.id)
        .where(Submission.created_at >= since), who)).all()
    by_signal: Counter[str] = Counter()
    submitted: Counter[str] = Counter()
    hospital_signals: dict[str, Counter[str]] = defaultdict(Counter)
    day_signals: dict[str, Counter[str]] = defaultdict(Counter)
    for hospital_id, created, verdict, reasons in rows:
        submitted[hospital_id] += 1
        if verdict != Verdict.REJECTED:
            continue
        signal = top_signal(reasons)
        by_signal[signal] += 1
        hospital_signals[hospital_id][signal] += 1
        day_signals[day_of(created)][signal] += 1
    hospitals = sorted(hospital_signals, key=lambda h: (-sum(hospital_signals[h].values()), h))
    return Attacks(
        by_signal=[SignalCount(signal=s, count=n) for s, n in by_signal.most_common()],
        by_hospital=[HospitalAttacks(hospital_id=h, submitted=submitted[h], rejected=sum(hospital_signals[h].values()),
                                     signals=dict(hospital_signals[h])) for h in hospitals],
        daily=[DailySignals(day=d, signals=dict(day_signals[d])) for d in sorted(day_signals)],
    )


@router.get("/scores", response_model=ScoreDistribution)
def scores(
    _: PrincipalDep, session: SessionDep, task: IdQuery = None,
    limit: Annotated[int, Query(ge=1, le=20000)] = 5000,
) -> ScoreDistribution:
    """The spread of honest (accepted) and rejected scores: what an update's score is judged against.

    Counts only, no ids, so every key may read it: a hospital sees where it stands among its peers.
    """
    query = select(Decision.score, Decision.verdict).order_by(Decision.created_at.desc()).limit(limit)
    if task is not None:
        query = query.join(Submission, Submission.id == Decision.submission_id).where(Submission.task == task)
    rows = session.execute(query).all()
    honest = [s for s, v in rows if v == Verdict.ACCEPTED]
    return ScoreDistribution(
        bin_edges=[i / SCORE_BINS for i in range(SCORE_BINS + 1)],
        accepted=histogram(honest, SCORE_BINS, 0.0, 1.0),
        rejected=histogram([s for s, v in rows if v == Verdict.REJECTED], SCORE_BINS, 0.0, 1.0),
        threshold=get_settings().detector_threshold,
        accepted_p50=percentile(honest, 50), accepted_p95=percentile(honest, 95),
    )

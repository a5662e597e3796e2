"""The Overview's headline numbers: volume today, acceptance, why updates are rejected, time to verdict."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time

from fastapi import APIRouter
from sqlalchemy import case, func, select

from services.gateway.auth import PrincipalDep
from services.gateway.deps import SessionDep
from services.gateway.insights.numbers import percentile, seconds_between, top_signal
from services.gateway.schemas.analytics import SignalCount, StatsSummary
from services.gateway.visibility import scoped
from services.ledger.checkpoints import latest_checkpoint
from shared.models import Decision, LedgerEntry, Submission, Verdict

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])

LATENCY_SAMPLE = 2000  # the latest verdicts the percentiles are taken over: recent behaviour, bounded cost


@router.get("/summary", response_model=StatsSummary)
def summary(who: PrincipalDep, session: SessionDep) -> StatsSummary:
    """Counts, acceptance rate, rejections by their top signal, p50/p95 seconds from upload to verdict."""
    midnight = datetime.combine(datetime.now(UTC).date(), time(), tzinfo=UTC)
    counts = session.execute(scoped(select(
        func.count(Submission.id),
        func.sum(case((Submission.created_at >= midnight, 1), else_=0)),
        func.sum(case((Submission.verdict.is_(None), 1), else_=0)),
        func.sum(case((Submission.verdict == Verdict.ACCEPTED, 1), else_=0)),
        func.sum(case((Submission.verdict == Verdict.REJECTED, 1), else_=0)),
        func.sum(case((Submission.verdict == Verdict.ERROR, 1), else_=0)),
    ), who)).one()
    total, today, pending, accepted, rejected, errors = (int(c or 0) for c in counts)
    reasons = session.scalars(scoped(
        select(Decision.reasons).join(Submission, Submission.id == Decision.submission_id)
        .where(Decision.verdict == Verdict.REJECTED), who))
    by_signal = Counter(top_signal(r) for r in reasons)
    timings = session.execute(scoped(
        select(Submission.created_at, Submission.decided_at).where(Submission.decided_at.is_not(None))
        .order_by(Submission.decided_at.desc()).limit(LATENCY_SAMPLE), who)).all()
    latencies = [seconds_between(c, d) for c, d in timings if d is not None]
    # The whole log for keys that read everything (calibration entries belong to no submission);
    # a hospital's own entries for a hospital key.
    ledger_size = (session.scalar(select(func.count(LedgerEntry.seq))) if who.reads_all else session.scalar(scoped(
        select(func.count(LedgerEntry.seq)).join(Submission, Submission.id == LedgerEntry.submission_id), who))) or 0
    # The log's signed head is public to every key: it names sizes and hashes, no submission.
    checkpoint = latest_checkpoint(session)
    return StatsSummary(
        submissions_total=total, submissions_today=today, in_pipeline=pending, accepted=accepted,
        rejected=rejected, errors=errors,
        acceptance_rate=accepted / (accepted + rejected) if accepted + rejected else None,
        rejections_by_signal=[SignalCount(signal=s, count=n) for s, n in by_signal.most_common()],
        time_to_verdict_p50_s=percentile(latencies, 50), time_to_verdict_p95_s=percentile(latencies, 95),
        ledger_size=ledger_size,
        checkpoint_size=checkpoint.size if checkpoint else None,
        checkpoint_root=checkpoint.root_hash.hex() if checkpoint else None,
        checkpoint_at=checkpoint.created_at if checkpoint else None,
    )

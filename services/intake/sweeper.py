"""The sweeper: PostgreSQL is the truth, Redis only carries work, so lost work is found here.

A submission that has not reached the ledger within `stuck_after_s` of its last progress is
sent again from the stage it stopped at. It gets an `error` verdict, recorded in the ledger like
any other, after `max_attempts` failed stage executions (counted by the stages) or `max_resends`
re-sends with no progress, so no submission waits forever. Re-sends are not attempts: a broker
outage, during which sends fail or nothing consumes them, uses up no attempt; a send the broker
refused is not counted as a re-send either.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import Celery
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.celery_app import Queue, vetting_chain
from shared.db import session_scope
from shared.models import Decision, Status, Submission, Verdict, utcnow
from shared.settings import get_settings

log = logging.getLogger(__name__)

SWEEP_BATCH = 500
RESUME_AT = {
    Status.QUEUED: Queue.EVALUATE,
    Status.EVALUATED: Queue.FINGERPRINT,
    Status.FINGERPRINTED: Queue.DETECT,
    Status.DECIDED: Queue.LEDGER,
}


@dataclass
class SweepReport:
    """What one sweep did."""

    requeued: list[str] = field(default_factory=list)
    errored: list[str] = field(default_factory=list)
    unsent: list[str] = field(default_factory=list)  # the broker refused the send (counted as nothing)


def _give_up(submission: Submission, session: Session) -> None:
    if session.get(Decision, submission.id) is None:
        why = submission.last_error or "no stage reported an error (messages lost or workers down)"
        session.add(Decision(
            submission_id=submission.id, verdict=Verdict.ERROR, score=1.0, threshold=get_settings().detector_threshold,
            reasons=[{"signal": "pipeline", "severity": 1.0, "value": float(submission.attempts), "reference": None,
                      "text": f"vetting did not finish after {submission.attempts} failed attempts and "
                              f"{submission.resends} re-sends: {why}"}],
            features={},
        ))
        submission.verdict = Verdict.ERROR
        submission.decided_at = utcnow()
        submission.status = Status.DECIDED


def sweep(now: datetime | None = None, on: Celery | None = None, only: Collection[str] | None = None) -> SweepReport:
    """Re-queue stuck submissions (of `only`, if given), or give them an `error` verdict once attempts run out."""
    settings = get_settings()
    now = now or utcnow()
    cutoff = now - timedelta(seconds=settings.stuck_after_s)
    report = SweepReport()
    to_send: list[tuple[str, Queue]] = []
    while True:  # in batches, so a backlog of any size is swept in one call
        batch = _sweep_batch(settings.max_attempts, settings.max_resends, cutoff, now, report, only)
        to_send += batch
        if len(batch) < SWEEP_BATCH:
            break
    refused: list[str] = []
    for submission_id, start in to_send:  # after the commits, like intake
        try:
            vetting_chain(submission_id, start, on).apply_async()
        except Exception as exc:  # the broker is down: the next sweep sends again, nothing is counted
            refused.append(submission_id)
            report.unsent.append(submission_id)
            log.warning("sweeper could not send %s: %s", submission_id, exc)
    if refused:
        _uncount(refused)
    return report


def _uncount(submission_ids: list[str]) -> None:
    with session_scope() as session:
        session.execute(update(Submission).where(Submission.id.in_(submission_ids), Submission.resends > 0)
                        .values(resends=Submission.resends - 1))


def _sweep_batch(max_attempts: int, max_resends: int, cutoff: datetime, now: datetime, report: SweepReport,
                 only: Collection[str] | None) -> list[tuple[str, Queue]]:
    to_send: list[tuple[str, Queue]] = []
    query = select(Submission).where(Submission.status != Status.RECORDED, Submission.updated_at < cutoff)
    if only is not None:
        query = query.where(Submission.id.in_(only))
    with session_scope() as session:
        stuck = session.scalars(
            query.order_by(Submission.updated_at).limit(SWEEP_BATCH).with_for_update(skip_locked=True))
        for submission in stuck:
            hopeless = submission.attempts >= max_attempts or submission.resends >= max_resends
            if submission.status != Status.DECIDED and hopeless:
                _give_up(submission, session)
                report.errored.append(submission.id)
            else:
                report.requeued.append(submission.id)
            submission.resends += 1
            submission.updated_at = now
            to_send.append((submission.id, RESUME_AT[Status(submission.status)]))
    return to_send


def run_forever() -> None:
    """Sweep every `sweep_interval_s` until interrupted (the `aura sweeper` process)."""
    interval = get_settings().sweep_interval_s
    while True:
        try:
            report = sweep()
            if report.requeued or report.errored:
                log.warning("sweeper re-queued %d, gave up on %d", len(report.requeued), len(report.errored))
        except Exception:  # a DB blip must not kill the sweeper; the next sweep retries
            log.exception("sweep failed")
        time.sleep(interval)

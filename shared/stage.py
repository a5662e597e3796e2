"""The one way a pipeline stage becomes a Celery task, with its reliability options stated once.

A stage is a function ``(session, submission_id) -> None`` that loads what it needs, writes its
own row (skipping the work when the row exists) and advances the submission's status. The task
wrapper runs the stage in one transaction and returns the id for the next stage. Each stage loads
the submission itself because the ledger stage reads it in the same call as the log's state,
which an ORM load in the wrapper would add a round trip to.
"""

from __future__ import annotations

import logging

from celery import Task
from celery.signals import worker_process_init
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

import shared.heartbeat  # noqa: F401  (every worker imports this module: its heartbeat starts with it)
from shared.celery_app import app
from shared.db import session_scope
from shared.models import Status, Submission, utcnow
from shared.pipeline import PIPELINE, Queue, Stage, before, stage
from shared.settings import get_settings

log = logging.getLogger(__name__)


@worker_process_init.connect  # type: ignore[untyped-decorator]
def _limit_torch_threads(**_: object) -> None:
    # Each prefork child vets one update at a time and a worker runs about one child per core, so
    # torch's own thread pool in every child only makes the children contend for the same cores.
    import torch

    torch.set_num_threads(get_settings().worker_torch_threads)

# A submission's statuses in order: queued, then each stage's result (shared/pipeline.py).
ORDER = [Status.QUEUED, *(s.result for s in PIPELINE)]


def load_submission(session: Session, submission_id: str) -> Submission:
    """The submission with this id; LookupError if it was deleted or never committed (nothing to vet)."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise LookupError(f"submission {submission_id} not found")
    return submission


def reached(submission: Submission, status: Status) -> bool:
    """Whether the submission is already at `status` or beyond.

    A stage writes its row and advances the status in one transaction, and nothing moves a status
    back, so a submission below a stage's status has no row of that stage yet: the check costs
    no query. (A concurrent copy of the message that wins the insert makes ours fail with an
    IntegrityError; the retry then finds the status advanced and does nothing.)
    """
    return ORDER.index(Status(submission.status)) >= ORDER.index(status)


def advance(submission: Submission, status: Status) -> None:
    """Move the submission forward to `status`; never backwards (a redelivery may come late)."""
    if ORDER.index(Status(submission.status)) < ORDER.index(status):
        submission.status = status
    submission.updated_at = utcnow()


def _record_failure(submission_id: str, exc: BaseException) -> None:
    """Count a failed execution of a stage (what `attempts` counts) and keep its error."""
    with session_scope() as session:
        submission = session.get(Submission, submission_id)
        if submission is not None:
            submission.attempts += 1
            submission.last_error = f"{type(exc).__name__}: {exc}"[:2000]


def _catch_up(session: Session, submission_id: str, queue: Queue) -> None:
    """Run again every earlier stage whose result is missing.

    A stage's task can run and send the next message, and its commit still be lost (PostgreSQL's
    asynchronous commit, which the recomputable stages use, or a crash before the commit was
    durable). The next stage then finds the submission behind it: it re-runs what is missing
    instead of skipping it, and the rest of the chain never sees a gap.
    """
    submission = load_submission(session, submission_id)
    for earlier in before(queue):
        if not reached(submission, earlier.result):
            log.warning("submission %s reached %s without its %s result (lost commit): running %s again",
                        submission_id, queue.value, earlier.queue.value, earlier.queue.value)
            earlier.load()(session, submission_id)


def run_stage(stage_: Stage, submission_id: str, *, catch_up: bool = False) -> None:
    """Run one stage on one submission in a transaction of its own (what its task does, minus Celery).

    With `catch_up`, earlier stages whose results are missing run first (`_catch_up`). The ledger
    stage's append must be its session's first statement (one round trip to lock and read), so it
    catches up only when it finds no verdict, in a transaction of its own, and then runs again.
    """
    fn, durable, queue = stage_.load(), stage_.durable, stage_.queue
    if catch_up and queue == Queue.LEDGER:
        try:
            with session_scope(durable=durable) as session:
                fn(session, submission_id)
            return
        except LookupError:
            with session_scope() as session:
                if reached(load_submission(session, submission_id), Status.DECIDED):
                    raise  # the verdict is there: the error is another one
                _catch_up(session, submission_id, queue)
    with session_scope(durable=durable) as session:
        if catch_up and queue != Queue.LEDGER:
            _catch_up(session, submission_id, queue)
        fn(session, submission_id)


def register_stage(queue: Queue) -> Task:
    """Register the pipeline's stage that consumes `queue` as its Celery task (shared.pipeline defines it)."""
    stage_ = stage(queue)

    @app.task(  # type: ignore[untyped-decorator]
        name=stage_.task,
        queue=queue.value,
        bind=True,
        # Ack only after the work committed; if the worker dies mid-task the broker
        # redelivers (reject_on_worker_lost) and the idempotent stage finishes the job.
        acks_late=True,
        reject_on_worker_lost=True,
        # A hung stage (a stuck DB lock, a pathological update) must not hold a worker
        # forever: the soft limit raises inside the task, the hard limit kills the child.
        soft_time_limit=stage_.soft_time_limit,
        time_limit=stage_.time_limit,
        # Lost DB connections are transient, and an IntegrityError means a concurrent copy
        # of this message wrote the row first: the retry finds it and does nothing. Anything
        # else is left to the sweeper, which gives an `error` verdict after max_attempts.
        autoretry_for=(OperationalError, IntegrityError),
        retry_backoff=True,
        max_retries=3,
    )
    def run(self: Task, submission_id: str) -> str:
        try:
            run_stage(stage_, submission_id, catch_up=True)
        except (OperationalError, IntegrityError):
            raise
        except Exception as exc:
            _record_failure(submission_id, exc)
            raise
        return submission_id

    return run

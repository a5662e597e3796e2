"""Celery entry points of the ledger (queue `ledger`): the append stage and timed checkpoints."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from services.ledger.checkpoints import publish_checkpoint
from services.ledger.keys import log_config
from services.ledger.service import append
from shared.celery_app import Queue, app
from shared.db import session_scope
from shared.models import Submission
from shared.stage import stage_task

CHECKPOINT_TASK = "aura.ledger.checkpoint"


def record_verdict(session: Session, submission: Submission) -> None:
    """Stage function: append the verdict; the first entry no checkpoint covers starts a timer."""
    appended = append(session, submission)
    if appended.first_uncovered:
        # Sent only after commit: a timer that fired before the entry existed would find nothing
        # to sign, and no later entry would start another one.
        event.listen(session, "after_commit", _start_checkpoint_timer, once=True)


def _start_checkpoint_timer(_session: Any) -> None:
    checkpoint_task.apply_async(countdown=log_config().every_s)


# An append waits for the advisory lock behind other writers; 60 s means the log is stuck.
ledger_task = stage_task(Queue.LEDGER, soft_time_limit=60, time_limit=90)(record_verdict)


@app.task(  # type: ignore[untyped-decorator]
    name=CHECKPOINT_TASK,
    queue=Queue.LEDGER.value,
    # Publishing is idempotent (nothing new, nothing signed), so a redelivery is harmless.
    acks_late=True,
    reject_on_worker_lost=True,
    # It waits for the append lock like an append does.
    soft_time_limit=60,
    time_limit=90,
)
def checkpoint_task() -> int | None:
    """Publish a checkpoint if entries are uncovered; return the latest checkpoint's size."""
    with session_scope() as session:
        latest = publish_checkpoint(session)
        return None if latest is None else latest.size

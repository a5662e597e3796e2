"""Celery entry point of the ledger stage (queue `ledger`), and its timed checkpoints."""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from services.ledger.checkpoints import publish_checkpoint
from services.ledger.keys import log_config
from services.ledger.service import append
from shared.db import session_scope
from shared.pipeline import Queue
from shared.stage import register_stage

log = logging.getLogger(__name__)
_timer_lock = threading.Lock()
_timer: threading.Timer | None = None


def record_verdict(session: Session, submission_id: str) -> None:
    """Stage function: append the verdict; an entry no checkpoint covers yet starts the checkpoint timer."""
    if append(session, submission_id, own_transaction=True).uncovered:
        # Started only after commit: a timer that fired before the entry existed would sign
        # a tree without it.
        event.listen(session, "after_commit", _start_checkpoint_timer, once=True)


def _start_checkpoint_timer(_session: Any = None) -> None:
    # A thread in this worker process rather than a delayed broker message: nothing waits in
    # the queues, and if the process dies the next append or receipt publishes instead.
    global _timer
    with _timer_lock:
        if _timer is not None and _timer.is_alive():
            return  # already due within checkpoint_every_s of an earlier uncovered entry
        _timer = threading.Timer(log_config().every_s, publish_due_checkpoint)
        _timer.daemon = True
        _timer.start()


def publish_due_checkpoint() -> None:
    """Publish a checkpoint covering every entry (never raises: it runs on a timer thread)."""
    try:
        with session_scope() as session:
            publish_checkpoint(session)
    except Exception:
        log.exception("timed checkpoint could not be published")


ledger_task = register_stage(Queue.LEDGER)  # its function is record_verdict, above (shared/pipeline.py)

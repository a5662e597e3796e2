"""The Celery app, its queues and the vetting chain, shared by intake (which sends) and workers.

Tasks are addressed by name, so intake can send the chain without importing any worker code.
Only the submission id travels in messages; every stage reloads what it needs from the database.
"""

from __future__ import annotations

from celery import Celery, chain
from celery.canvas import Signature
from kombu.entity import Exchange
from kombu.entity import Queue as KombuQueue

import shared.filesystem_broker  # noqa: F401  (filesystem:// means its atomic-write transport)
from shared.pipeline import PIPELINE, Queue, stage
from shared.settings import Settings, get_settings

__all__ = ["TASK_MODULES", "Queue", "app", "make_app", "stage_signature", "vetting_chain"]

TASK_MODULES = (
    "services.evaluator.tasks",
    "services.fingerprinter.tasks",
    "services.detector.tasks",
    "services.ledger.tasks",
)


def make_app(settings: Settings | None = None) -> Celery:
    """A Celery app configured from the settings."""
    settings = settings or get_settings()
    app = Celery("aura", broker=settings.resolved_broker_url, include=list(TASK_MODULES))
    options: dict[str, object] = {}
    if settings.resolved_broker_url.startswith("filesystem"):
        folder = settings.broker_folder
        for sub in ("out", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        # The filesystem transport has one folder for messages in flight (in == out), and keeps
        # broadcast (control) bindings in a folder that defaults to the working directory.
        options = {"data_folder_in": str(folder / "out"), "data_folder_out": str(folder / "out"),
                   "processed_folder": str(folder / "processed"), "store_processed": False,
                   "control_folder": str(folder / "control"),
                   # A worker looks for new files this often; kombu's 1 s default adds up to a
                   # second per stage, 4 s per chain (a listdir per queue every 0.1 s costs nothing).
                   "polling_interval": 0.1}
    else:
        options = {"visibility_timeout": settings.broker_visibility_timeout_s}
    app.conf.update(
        broker_transport_options=options,
        # Each queue on its own exchange and key: queues declared without them all share the
        # default queue's binding, and every message would reach every queue.
        task_queues=[KombuQueue(q.value, Exchange(q.value), routing_key=q.value) for q in Queue],
        task_routes={s.task: {"queue": s.queue.value} for s in PIPELINE},
        task_default_queue=Queue.EVALUATE.value,
        # Results go to PostgreSQL tables, not a result backend.
        task_ignore_result=True,
        # prefetch 1: a worker holds one message at a time, so a crash strands at most one and
        # slow tasks do not hide queued work from idle workers.
        worker_prefetch_multiplier=1,
        # Ack after the task ran (acks_late) and re-queue if the worker process died mid-task:
        # every stage is idempotent, so running twice is safe and losing a message is not.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        # A worker rides out a broker outage of any length, retrying the connection instead of
        # exiting after Celery's default 100 tries (minutes): the queued work is in PostgreSQL
        # and the sweeper re-sends it once the broker is back.
        broker_connection_max_retries=None,
        worker_hijack_root_logger=False,
        worker_send_task_events=True,
        task_send_sent_event=True,
    )
    return app


app = make_app()


def stage_signature(queue: Queue, submission_id: str | None = None, on: Celery | None = None) -> Signature:
    """The signature of one stage's task (with the id when it starts a chain)."""
    args = (submission_id,) if submission_id is not None else ()
    return (on or app).signature(stage(queue).task, args=args, queue=queue.value)


def vetting_chain(submission_id: str, start: Queue = Queue.EVALUATE, on: Celery | None = None) -> Signature:
    """The chain of stages from `start` to the ledger, carrying only the submission id."""
    queues = [s.queue for s in PIPELINE]
    remaining = queues[queues.index(start) :]
    first = stage_signature(remaining[0], submission_id, on)
    return chain(first, *(stage_signature(q, None, on) for q in remaining[1:]))

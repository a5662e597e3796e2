"""The pipeline's health for operators: messages waiting per stage and the workers consuming them.

Depth comes from the broker itself through kombu (a queue declare counts LLEN on Redis and the
queue's message files on the filesystem broker), so it is the same code on both. The declare is
not passive: Redis deletes an empty list, and a passive declare would call that queue missing.
Workers answer Celery's remote-control broadcast; a short timeout keeps the page fast when none does.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from services.gateway.auth import require
from shared.celery_app import STAGES, Queue
from shared.celery_app import app as celery_app
from shared.models import Role

router = APIRouter(prefix="/api/v1/workers", tags=["workers"], dependencies=[require(Role.OPERATOR, Role.ADMIN)])


class QueueOut(BaseModel):
    """One stage's queue: messages waiting (None when the broker could not say) and who consumes it."""

    stage: str
    task: str
    depth: int | None
    workers: list[str]


class WorkerOut(BaseModel):
    """A worker that answered, and the queues it consumes."""

    name: str
    queues: list[str]


class PipelineHealth(BaseModel):
    """Queues in stage order, workers online, and alerts in words."""

    broker: str
    queues: list[QueueOut]
    workers: list[WorkerOut]
    alerts: list[str]


def queue_depths() -> dict[str, int | None]:
    """Messages waiting in each stage's queue, None for a queue the broker could not count."""
    depths: dict[str, int | None] = {}
    with celery_app.connection_for_read() as conn:
        channel: Any = conn.default_channel
        for queue in Queue:
            try:
                depths[queue.value] = int(channel.queue_declare(queue=queue.value).message_count)
            except Exception:  # one queue the broker cannot count should not hide the others
                depths[queue.value] = None
    return depths


def active_queues(timeout: float) -> dict[str, list[str]]:
    """Each responding worker's queue names ({} when none answers within `timeout` seconds)."""
    replies = celery_app.control.inspect(timeout=timeout).active_queues() or {}
    return {name: sorted(q["name"] for q in queues) for name, queues in replies.items()}


@router.get("", response_model=PipelineHealth)
def pipeline_health(timeout: Annotated[float, Query(gt=0, le=5)] = 1.0) -> PipelineHealth:
    """Queue depth per stage, workers online, and an alert for any stage no worker consumes."""
    alerts: list[str] = []
    try:
        depths = queue_depths()
    except Exception as exc:  # the broker being down is exactly what this page must be able to show
        depths = {q.value: None for q in Queue}
        alerts.append(f"broker unreachable: {exc.__class__.__name__}")
    try:
        consumers = active_queues(timeout)
    except Exception as exc:
        consumers = {}
        alerts.append(f"worker inspection failed: {exc.__class__.__name__}")
    queues = []
    for queue, task in STAGES:
        names = sorted(w for w, qs in consumers.items() if queue.value in qs)
        queues.append(QueueOut(stage=queue.value, task=task, depth=depths.get(queue.value), workers=names))
        if not names:
            waiting = depths.get(queue.value)
            alerts.append(f"no worker consumes the {queue.value} queue"
                          + (f"; {waiting} message(s) waiting" if waiting else ""))
    broker = celery_app.conf.broker_url.split(":", 1)[0]
    return PipelineHealth(broker=broker, queues=queues, alerts=alerts,
                          workers=[WorkerOut(name=n, queues=q) for n, q in sorted(consumers.items())])

"""The pipeline's health for operators: messages waiting per stage and the workers consuming them.

Depth comes from the broker itself through kombu (a queue declare counts LLEN on Redis and the
queue's message files on the filesystem broker), so it is the same code on both. The declare is
not passive: Redis deletes an empty list, and a passive declare would call that queue missing.
Workers come from the heartbeats they write to the database (shared/heartbeat.py), which every
supported broker allows: Celery's remote-control broadcast is one the filesystem broker cannot
answer. A worker is online while its last beat is under three intervals old.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.gateway.auth import require
from services.gateway.deps import SessionDep
from services.gateway.schemas.operations import PipelineHealth, QueueOut, WorkerOut
from shared.celery_app import app as celery_app
from shared.models import Role, WorkerHeartbeat, as_utc, utcnow
from shared.pipeline import PIPELINE, Queue
from shared.settings import get_settings

router = APIRouter(prefix="/api/v1/workers", tags=["workers"], dependencies=[require(Role.OPERATOR, Role.ADMIN)])


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


def heartbeats(session: Session, now: datetime) -> tuple[list[WorkerHeartbeat], list[WorkerHeartbeat]]:
    """Workers online (beat within three intervals), and those that went silent in the last hour without stopping."""
    interval = get_settings().heartbeat_interval_s
    online: list[WorkerHeartbeat] = []
    gone: list[WorkerHeartbeat] = []
    for row in session.scalars(select(WorkerHeartbeat).where(WorkerHeartbeat.beat_at > now - timedelta(hours=1))
                               .order_by(WorkerHeartbeat.name)):
        if row.stopped_at is not None:
            continue
        (online if as_utc(row.beat_at) > now - timedelta(seconds=3 * interval) else gone).append(row)
    return online, gone


@router.get("", response_model=PipelineHealth)
def pipeline_health(session: SessionDep) -> PipelineHealth:
    """Queue depth per stage, workers online, and an alert for any stage no worker consumes or worker gone silent."""
    alerts: list[str] = []
    try:
        depths = queue_depths()
    except Exception as exc:  # the broker being down is exactly what this page must be able to show
        depths = {q.value: None for q in Queue}
        alerts.append(f"broker unreachable: {exc.__class__.__name__}")
    now = utcnow()
    online, gone = heartbeats(session, now)
    consumers = {w.name: list(w.queues) for w in online}
    for worker in gone:
        alerts.append(f"worker {worker.name} silent for {(now - as_utc(worker.beat_at)).total_seconds():.0f} s "
                      "(stopped without saying so, or cannot reach the database)")
    queues = []
    for stage in PIPELINE:
        queue, task = stage.queue, stage.task
        names = sorted(w for w, qs in consumers.items() if queue.value in qs)
        queues.append(QueueOut(stage=queue.value, task=task, depth=depths.get(queue.value), workers=names))
        if not names:
            waiting = depths.get(queue.value)
            alerts.append(f"no worker consumes the {queue.value} queue"
                          + (f"; {waiting} message(s) waiting" if waiting else ""))
    broker = celery_app.conf.broker_url.split(":", 1)[0]
    return PipelineHealth(broker=broker, queues=queues, alerts=alerts,
                          workers=[WorkerOut(name=w.name, queues=list(w.queues), beat_at=w.beat_at,
                                             started_at=w.started_at) for w in online])

"""Worker heartbeats: every worker writes its name, queues and the time to the database every few seconds.

The Workers view and `GET /api/v1/workers` read these rows instead of broadcasting Celery's
remote-control inspect, which the embedded filesystem broker cannot answer; every deployment
has the database. The heartbeat runs in a thread of the worker's main process, with an engine
of its own that keeps no connection open between beats (the main process forks replacement
pool children, which must not inherit a live connection).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from celery.signals import worker_ready, worker_shutdown
from sqlalchemy import Engine, create_engine, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from shared.models import WorkerHeartbeat, utcnow
from shared.settings import get_settings

log = logging.getLogger(__name__)
_stop = threading.Event()
_beating: dict[str, Any] = {}


def beat(engine: Engine, name: str, queues: list[str], started_at: Any) -> None:
    """Write (or refresh) this worker's row."""
    with Session(engine) as session, session.begin():
        session.merge(WorkerHeartbeat(name=name, pid=os.getpid(), queues=queues, started_at=started_at,
                                      beat_at=utcnow(), stopped_at=None))


def _beat_forever(engine: Engine, name: str, queues: list[str], interval: float) -> None:
    started_at = utcnow()
    while not _stop.is_set():
        try:
            beat(engine, name, queues, started_at)
        except Exception as exc:  # a database outage must not stop the worker; the view shows it silent
            log.warning("heartbeat of %s not written: %s", name, exc)
        _stop.wait(interval)


@worker_ready.connect  # type: ignore[untyped-decorator]
def _start(sender: Any, **_: object) -> None:
    settings = get_settings()
    name = str(sender.hostname)
    queues = sorted(str(q.name) for q in sender.task_consumer.queues)
    engine = create_engine(settings.resolved_database_url, poolclass=NullPool)
    _beating.update(name=name, engine=engine)
    threading.Thread(target=_beat_forever, args=(engine, name, queues, settings.heartbeat_interval_s),
                     name="aura-heartbeat", daemon=True).start()


@worker_shutdown.connect  # type: ignore[untyped-decorator]
def _stopped(**_: object) -> None:
    _stop.set()
    if "engine" not in _beating:
        return
    try:  # a clean stop says so at once, rather than after three missed beats
        with Session(_beating["engine"]) as session, session.begin():
            session.execute(update(WorkerHeartbeat).where(WorkerHeartbeat.name == _beating["name"])
                            .values(stopped_at=utcnow()))
    except Exception as exc:
        log.warning("could not record that %s stopped: %s", _beating["name"], exc)

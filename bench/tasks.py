"""No-op tasks for `aura bench pipeline`'s empty chain: same queues and options as the real stages."""

from __future__ import annotations

from functools import lru_cache

import redis
from celery import Task

from shared.celery_app import app
from shared.pipeline import PIPELINE


@lru_cache(maxsize=1)
def _counter() -> redis.Redis:
    # One client per worker process, as the real stages keep one database engine: a client made
    # per chain would open a connection each time and flatter the ratio to the empty chain.
    return redis.Redis.from_url(app.conf.broker_url)


def _noop(queue: str, last: bool) -> Task:
    @app.task(name=f"aura.bench.noop.{queue}", queue=queue, acks_late=True, reject_on_worker_lost=True,  # type: ignore[untyped-decorator]
              soft_time_limit=60, time_limit=90)
    def noop(done_key: str) -> str:
        if last:  # the chain's end: count it where the benchmark can see it
            _counter().incr(done_key)
        return done_key

    return noop


NOOPS = [_noop(s.queue.value, i == len(PIPELINE) - 1) for i, s in enumerate(PIPELINE)]

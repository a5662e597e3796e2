"""`aura bench pipeline`: how fast the vetting pipeline runs on Redis + PostgreSQL, and why.

Three figures from one run, on the same machine, database server and broker:
- vetted/s and submit-to-ledger latency: updates POSTed to a real gateway, vetted by one Celery
  worker (concurrency 2) through the four-stage chain, until each verdict is in the ledger;
- empty-chain/s: a chain of four no-op tasks on the same queues and worker settings, the
  ceiling the broker and Celery allow;
- in-process/s: the same four stage functions called directly, one after the other, the cost of
  the vetting itself.
pipeline_efficiency = vetted/s / empty-chain/s.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import sqlalchemy as sa

from shared.db import create_database, drop_database

HOSPITALS = 8  # a federation's size: each round has this many updates (detector peers)


def _updates(n: int) -> list[bytes]:
    from shared.modeltask.registry import get_task
    from shared.tensors import dump_arrays

    base = get_task("heart-mlp").initial_weights()
    rng = np.random.default_rng(0)
    return [dump_arrays({k: (v + 0.05 * rng.standard_normal(v.shape)).astype(np.float32) for k, v in base.items()})
            for _ in range(n)]


def _setup(n: int) -> list[tuple[str, str, int]]:
    """Hospitals and rounds for n updates: (hospital id, key, round) per update."""
    from services.gateway.auth import add_hospital
    from shared.bootstrap import prepare
    from shared.db import session_scope
    from shared.modeltask.registry import get_task
    from shared.weights import register_global

    prepare()
    rounds = -(-n // HOSPITALS)
    with session_scope() as session:
        keys = [(f"bench-{i}", add_hospital(session, f"bench-{i}", f"bench {i}")) for i in range(HOSPITALS)]
        base = get_task("heart-mlp").initial_weights()
        for r in range(2, rounds + 1):
            register_global(session, "heart-mlp", r, {k: v + 0.01 * r for k, v in base.items()})
    return [(keys[i % HOSPITALS][0], keys[i % HOSPITALS][1], 1 + i // HOSPITALS) for i in range(n)]


def _wait_recorded(n: int, timeout: float) -> list[tuple[Any, Any]]:
    from shared.db import get_engine
    from shared.models import Status, Submission

    # The client shares the 2 cores with the pipeline it measures: poll with a bare count on one
    # connection, and read the timestamps once at the end.
    engine = get_engine()
    count = sa.select(sa.func.count()).select_from(Submission).where(Submission.status == Status.RECORDED)
    deadline = time.monotonic() + timeout
    with engine.connect() as conn:
        while (done := int(conn.execute(count).scalar_one())) < n:
            conn.rollback()  # a fresh snapshot for the next poll
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {done} of {n} updates reached the ledger in {timeout}s")
            time.sleep(0.1)
        rows = conn.execute(sa.select(Submission.created_at, Submission.recorded_at)
                            .where(Submission.status == Status.RECORDED)).all()
    return [(r[0], r[1]) for r in rows]


def _vetted(n: int, gateway: str) -> dict[str, float]:
    plan = _setup(n)
    updates = _updates(n)

    clients = 4  # a few hospitals at once keep the queues non-empty

    def post_share(first: int) -> None:
        # One keep-alive connection per client, as a hospital's SDK holds one.
        with httpx.Client(base_url=gateway, timeout=60) as client:
            for i in range(first, n, clients):
                _, key, round_ = plan[i]
                r = client.post("/api/v1/submissions", headers={"X-API-Key": key},
                                files={"file": ("u.safetensors", updates[i])},
                                data={"task": "heart-mlp", "round": str(round_)})
                r.raise_for_status()

    start = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(post_share, range(clients)))
    rows = _wait_recorded(n, timeout=600)
    elapsed = time.monotonic() - start
    latencies = sorted((done - created).total_seconds() * 1000 for created, done in rows)
    return {"vetted_per_s": n / elapsed, "p50_ms": float(np.percentile(latencies, 50)),
            "p99_ms": float(np.percentile(latencies, 99))}


def _empty_chains(n: int) -> float:
    import redis
    from celery import chain

    from shared.celery_app import app
    from shared.pipeline import PIPELINE

    done_key = f"aura-bench-done-{uuid.uuid4().hex}"
    start = time.monotonic()
    for _ in range(n):
        chain(*(app.signature(f"aura.bench.noop.{q.value}", args=(done_key,) if i == 0 else (), queue=q.value)
                for i, q in enumerate(s.queue for s in PIPELINE))).apply_async()
    r = redis.Redis.from_url(app.conf.broker_url)
    deadline = time.monotonic() + 600
    while int(r.get(done_key) or 0) < n:
        if time.monotonic() > deadline:
            raise TimeoutError("empty chains did not finish")
        time.sleep(0.01)
    return n / (time.monotonic() - start)


def _in_process(n: int) -> float:
    from fl.inprocess_vetting import run_stages
    from services.intake.service import Upload, record

    plan = _setup(n)
    updates = _updates(n)
    start = time.monotonic()
    for i in range(n):
        hospital, _, round_ = plan[i]
        submission, _ = record(Upload(hospital, "heart-mlp", round_, [updates[i]]))
        run_stages(submission.id)
    return n / (time.monotonic() - start)


def _spawn(cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


PHASES = ("vetted", "empty", "inprocess")


def _phase(phase: str, updates: int) -> dict[str, float]:
    """One measurement, in a process whose environment already points at fresh databases."""
    from aura.processes import gateway_cmd, worker_cmd
    from shared.bootstrap import prepare
    from shared.settings import get_settings

    env = {k: v for k, v in os.environ.items() if k.startswith("AURA_")}
    if phase == "inprocess":
        return {"inprocess_per_s": _in_process(updates)}
    procs: list[subprocess.Popen[bytes]] = []
    try:
        if phase == "vetted":
            prepare()
            port = get_settings().gateway_port
            procs = [_spawn(gateway_cmd("127.0.0.1", port), env), _spawn(worker_cmd(concurrency=2, name="bench"), env)]
            _wait_http(f"http://127.0.0.1:{port}")
            return _vetted(updates, f"http://127.0.0.1:{port}")
        procs = [_spawn([*worker_cmd(concurrency=2, name="bench-empty"), "-I", "bench.tasks"], env)]
        time.sleep(3)  # let the worker connect before the clock starts
        return {"empty_chain_per_s": _empty_chains(updates)}
    finally:
        for p in procs:
            p.terminate()
            p.wait(15)


def _measure(phase: str, updates: int, pg_server: str, broker: str) -> dict[str, float]:
    """One phase in a process of its own, on a fresh database, broker database and data folder."""
    import redis

    db = create_database(pg_server, "aura_bench")
    redis.Redis.from_url(broker).flushdb()
    # A data folder of its own per phase: blobs and checkpoint files of an earlier run's log
    # would collide with this run's (the checkpoint folder refuses a second, different tree head).
    data_dir = tempfile.mkdtemp(prefix=f"aura-bench-{phase}-")
    env = {"AURA_DATABASE_URL": db, "AURA_BROKER_URL": broker, "AURA_DATA_DIR": data_dir,
           "AURA_STUCK_AFTER_S": "3600", "AURA_GATEWAY_PORT": "18765"}
    try:
        figures = subprocess.run([sys.executable, "-m", "bench.pipeline", phase, str(updates)],
                                 env={**os.environ, **env}, check=True, capture_output=True, text=True).stdout
        return {k: float(v) for k, v in json.loads(figures.strip().splitlines()[-1]).items()}
    finally:
        drop_database(pg_server, db)
        shutil.rmtree(data_dir, ignore_errors=True)


def run(updates: int, out: str, pg_server: str, redis_server: str, repeats: int = 3) -> dict[str, Any]:
    """Run the three measurements `repeats` times, interleaved, then print and write the medians.

    On 2 cores one measurement of the same code varies by up to 1.6x from run to run (the empty
    chain most: 60-99 chains/s on an idle machine), so each figure is the median of its repeats
    and every repeat is kept in the JSON.
    """
    # The machine's load is part of the figures: other work on 2 cores changes them a lot.
    results: dict[str, Any] = {"updates": updates, "worker_concurrency": 2, "hospitals_per_round": HOSPITALS,
                               "cpus": os.cpu_count(), "repeats": repeats, "load_average_at_start": os.getloadavg()[0]}
    broker = redis_server.rsplit("/", 1)[0] + "/13"
    samples: dict[str, list[float]] = {}
    for _ in range(repeats):
        for phase in PHASES:
            for key, value in _measure(phase, updates, pg_server, broker).items():
                samples.setdefault(key, []).append(value)
    results.update({key: float(np.median(values)) for key, values in samples.items()})
    results["samples"] = samples
    results["pipeline_efficiency"] = results["vetted_per_s"] / results["empty_chain_per_s"]
    results["pipeline_efficiency_per_repeat"] = [v / e for v, e in zip(samples["vetted_per_s"],
                                                                          samples["empty_chain_per_s"], strict=True)]
    results["load_average_at_end"] = os.getloadavg()[0]
    results["latency_note"] = "all updates are submitted at once, so p50/p99 include the wait in the queue"
    results["broker"] = "redis " + _server_version_redis(redis_server)
    results["database"] = "postgresql " + _server_version_pg(pg_server)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(results, indent=2) + "\n")
    for key, value in results.items():
        shown: Any = value
        if isinstance(value, dict):
            shown = {k: [round(x, 1) for x in v] for k, v in value.items()}
        elif isinstance(value, list):
            shown = [round(x, 3) for x in value]
        print(f"{key:>30}: {shown:.3f}" if isinstance(shown, float) else f"{key:>30}: {shown}")
    return results


def _wait_http(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/ready").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("gateway did not start")


def _server_version_pg(url: str) -> str:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        version = str(conn.execute(sa.text("SHOW server_version")).scalar())
    engine.dispose()
    return version


def _server_version_redis(url: str) -> str:
    import redis

    return str(redis.Redis.from_url(url).info("server")["redis_version"])


if __name__ == "__main__":  # one phase, run by `run` in a process of its own
    print(json.dumps(_phase(sys.argv[1], int(sys.argv[2]))))

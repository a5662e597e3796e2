"""`aura bench chaos`: N submissions through Redis + PostgreSQL while the machine's services are broken on purpose.

Faults, on a fixed timetable while hospitals keep submitting: a worker process (a pool child,
as the OOM killer picks one) SIGKILLed every 50 verdicts, a Redis restart while messages are
unacknowledged and a second one later (this machine's Redis keeps nothing on disk, so every
queued message is lost each time), a PostgreSQL
restart, a broker outage of `outage_s` (Redis stopped, then started), and a gateway SIGKILL.
Processes run under `aura up`'s supervision (aura/stack.py), the sweeper re-sends what the broker
lost, and hospitals retry refused requests with the same Idempotency-Key, as the SDK's users are
told to. Writes bench/results/chaos.json: submitted, verdicts, lost, duplicates, error_verdicts,
worker_deaths_unrecovered, settle_seconds (last fault to last verdict), ledger_verified.

It restarts the machine's own Redis and PostgreSQL: run it when nothing else uses them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from aura.processes import children

REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
               "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]
KILL_EVERY = 50  # verdicts between worker kills


def _pg_cluster() -> list[str]:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def _redis_up() -> bool:
    return subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True, text=True).stdout.strip() == "PONG"


def redis_stop() -> None:
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], capture_output=True)
    while _redis_up():
        time.sleep(0.1)


def redis_start() -> None:
    subprocess.run(REDIS_START, check=True, capture_output=True)
    while not _redis_up():
        time.sleep(0.1)


def redis_restart() -> None:
    redis_stop()
    redis_start()


def postgres_restart() -> None:
    subprocess.run([*_pg_cluster(), "restart"], check=True, capture_output=True)


@dataclass
class Log:
    """What happened, when (seconds from the start)."""

    start: float = field(default_factory=time.monotonic)
    events: list[dict[str, Any]] = field(default_factory=list)

    def note(self, what: str) -> None:
        at = round(time.monotonic() - self.start, 1)
        self.events.append({"at_s": at, "event": what})
        print(f"[{at:7.1f} s] {what}", flush=True)


def _kill_tree(pid: int) -> None:
    for child in children(pid):
        _kill_tree(child)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _count(engine: Any, query: Any) -> int:
    """A count, or -1 while PostgreSQL is restarting."""
    try:
        with engine.connect() as conn:
            return int(conn.execute(query).scalar_one())
    except Exception:
        return -1


def _submit_all(gateway: str, plan: list[tuple[str, str, int]], updates: list[bytes], rate: float, log: Log,
                accepted: dict[int, str], stop: threading.Event) -> None:
    """Each update once, at `rate` per second; refused or failed requests retried with the same Idempotency-Key."""
    with httpx.Client(base_url=gateway, timeout=30) as client:
        for i, (_, key, round_) in enumerate(plan):
            due = log.start + 15 + i / rate
            while time.monotonic() < due and not stop.is_set():
                time.sleep(0.01)
            idem = f'"chaos-{i}"'
            while not stop.is_set():
                try:
                    r = client.post("/api/v1/submissions", headers={"X-API-Key": key, "Idempotency-Key": idem},
                                    files={"file": ("u.safetensors", updates[i])},
                                    data={"task": "heart-mlp", "round": str(round_)})
                    if r.status_code in (200, 201, 202):
                        accepted[i] = r.json()["id"]
                        break
                    wait = float(r.headers.get("Retry-After", "1"))
                except httpx.HTTPError:
                    wait = 1.0  # the gateway is down or restarting
                time.sleep(wait)


def run(n: int = 1000, outage_s: float = 300.0, rate: float = 4.0, out: str = "bench/results/chaos.json",
        pg_server: str = "postgresql+psycopg2://root@127.0.0.1:5432/test") -> dict[str, Any]:
    """Run the timetable, wait for every verdict, and write the result document."""
    import sqlalchemy as sa

    from aura.processes import gateway_cmd, sweeper_cmd, worker_cmd
    from aura.stack import Child, Stack, starter
    from bench.pipeline import _updates
    from shared.db import create_database, get_engine
    from shared.models import Decision, Status, Submission
    from shared.settings import get_settings

    data_dir = Path(f"/tmp/aura-chaos-{uuid.uuid4().hex[:8]}")
    database = create_database(pg_server, "aura_chaos")
    env = {"AURA_DATABASE_URL": database, "AURA_BROKER_URL": "redis://127.0.0.1:6379/12",
           "AURA_DATA_DIR": str(data_dir), "AURA_STUCK_AFTER_S": "20", "AURA_SWEEP_INTERVAL_S": "2",
           "AURA_HEARTBEAT_INTERVAL_S": "2", "AURA_AUTH_FAIL_LIMIT": "100000"}
    os.environ.update(env)
    get_settings.cache_clear()
    from bench.pipeline import _setup

    plan = _setup(n)
    updates = _updates(n)
    port = 18000 + os.getpid() % 1000
    env["AURA_GATEWAY_PORT"] = str(port)
    logs = data_dir / "logs"
    specs = [("gateway", gateway_cmd("127.0.0.1", port)), ("worker", worker_cmd(concurrency=2, name="chaos")),
             ("sweeper", sweeper_cmd())]
    supervised = []
    for name, cmd in specs:
        start = starter(cmd, env, logs / f"{name}.log")
        supervised.append(Child(name, start, start()))
    stack = Stack(f"http://127.0.0.1:{port}", "", supervised)
    stack.wait_ready(90)
    log = Log()
    engine = get_engine(database)
    decided_query = sa.select(sa.func.count()).select_from(Decision)
    recorded_query = sa.select(sa.func.count()).select_from(Submission).where(Submission.status == Status.RECORDED)
    accepted: dict[int, str] = {}
    stop = threading.Event()
    submitter = threading.Thread(target=_submit_all, args=(stack.url, plan, updates, rate, log, accepted, stop),
                                 daemon=True)
    submitter.start()
    faults: list[tuple[float, str, Callable[[], None]]] = [
              (30.0, "redis restart while messages are unacknowledged", redis_restart),
              (70.0, "postgresql restart", postgres_restart),
              (110.0, "gateway SIGKILL", lambda: _kill_tree(supervised[0].proc.pid)),
              (150.0, "redis restart (second)", redis_restart),
              (190.0, f"broker outage begins ({outage_s:.0f} s)", redis_stop),
              (190.0 + outage_s, "broker outage ends", redis_start)]
    kills, gave_up, last_fault = 0, "", 0.0
    next_kill = KILL_EVERY
    deadline = time.monotonic() + 15 + n / rate + outage_s + 900
    try:
        while time.monotonic() < deadline:
            now = time.monotonic() - log.start
            while faults and now >= faults[0][0]:
                _, what, act = faults.pop(0)
                log.note(what)
                act()
                last_fault = time.monotonic()
            decided = _count(engine, decided_query)
            if decided >= next_kill and decided < n:
                pool = children(supervised[1].proc.pid)
                _kill_tree(pool[kills % len(pool)] if pool else supervised[1].proc.pid)
                kills += 1
                last_fault = time.monotonic()
                log.note(f"worker SIGKILL #{kills} at {decided} verdicts")
                next_kill += KILL_EVERY
            try:
                stack.supervise_once(say=log.note, sleep=time.sleep)
            except Exception as exc:  # GaveUp: a process kept dying
                gave_up = str(exc)
                log.note(f"supervisor gave up: {exc}")
                break
            if not faults and not submitter.is_alive() and _count(engine, recorded_query) >= len(accepted) == n:
                break
            time.sleep(0.5)
        settled_at = time.monotonic()
        stop.set()
        result = _summarise(engine, n, accepted, kills, gave_up, settled_at - last_fault if last_fault else 0.0)
        alive = len(children(supervised[1].proc.pid))
        result |= {"stack_alive": stack.alive(), "worker_pool_at_end": alive, "restarts": {
            c.name: len(c.restarts) for c in supervised}}
        if alive < 2:  # Celery did not replace a killed child
            result["worker_deaths_unrecovered"] += 2 - alive
    finally:
        stop.set()
        if not _redis_up():
            redis_start()
        stack.stop()
    result |= {"events": log.events, "outage_s": outage_s, "rate_per_s": rate,
               "settings": {k: v for k, v in env.items() if k.startswith("AURA_") and "URL" not in k}}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "events"}, indent=1))
    return result


def _summarise(engine: Any, n: int, accepted: dict[int, str], kills: int, gave_up: str,
               settle_s: float) -> dict[str, Any]:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from services.ledger.audit import verify
    from shared.models import Decision, LedgerEntry, Submission

    with Session(engine) as session:
        submissions = session.scalar(sa.select(sa.func.count()).select_from(Submission)) or 0
        verdicts = session.scalar(sa.select(sa.func.count()).select_from(Decision)) or 0
        errors = session.scalar(sa.select(sa.func.count()).select_from(Decision)
                                .where(Decision.verdict == "error")) or 0
        entries = session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)
                                 .where(LedgerEntry.submission_id.is_not(None))) or 0
        distinct = session.scalar(sa.select(sa.func.count(sa.distinct(LedgerEntry.submission_id)))) or 0
        recorded = set(session.scalars(sa.select(Decision.submission_id)))
        report = verify(session)
    lost = sum(1 for sid in accepted.values() if sid not in recorded)
    return {"submitted": len(accepted), "planned": n, "rows": submissions, "verdicts": verdicts, "lost": lost,
            "duplicates": (entries - distinct) + max(0, submissions - len(set(accepted.values()))),
            "error_verdicts": errors, "worker_kills": kills,
            "worker_deaths_unrecovered": 1 if gave_up else 0, "supervisor": gave_up or "kept every process up",
            "settle_seconds": round(settle_s, 1), "ledger_entries": entries, "ledger_verified": report.ok,
            "ledger_problem": report.problem}

"""`aura bench fuzz`: schemathesis against every operation of a running AURA, on both stacks; counts 5xx answers.

Each stack is a real `aura up` (the embedded default: SQLite and the filesystem broker; then
PostgreSQL and Redis) with the admin key. schemathesis generates requests from the OpenAPI
document (every phase: examples, coverage, fuzzing, stateful) until the stack has answered at
least `requests`; every request and response is kept in a HAR file, from which the numbers are
read. The failed-authentication limit is lifted for the run: the fuzzer sends keys of its own in
the key headers, and 429s would hide the answers it is looking for.
Writes bench/results/fuzz.json: per stack, requests, responses >= 500 (with the operations that
gave them), and statuses by class.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx


def _start(env: dict[str, str], port: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    out = open(log, "wb")  # noqa: SIM115 - closed when the stack stops
    proc = subprocess.Popen([sys.executable, "-m", "aura.cli", "up", "--port", str(port)], env=env, stdout=out,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        if "admin key: " in text:
            key = text.split("admin key: ", 1)[1].split()[0]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                    return proc, key
            except httpx.HTTPError:
                pass
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"aura up did not start; see {log}")


def _har_entries(folder: Path) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for har in folder.glob("har-*.json"):  # schemathesis names its HAR reports so
        entries += json.loads(har.read_text())["log"]["entries"]
    return entries


def fuzz_stack(name: str, env: dict[str, str], requests: int, work: Path) -> dict[str, Any]:
    """Run schemathesis against one stack until it answered `requests`; its numbers."""
    port = 18500 + os.getpid() % 400
    proc, key = _start(env, port, work / f"{name}-aura.log")
    started = time.monotonic()
    entries: list[dict[str, Any]] = []
    rounds = 0
    try:
        examples = 100
        while len(entries) < requests:
            rounds += 1
            report = work / f"{name}-har-{rounds}"
            subprocess.run([sys.executable, "-m", "schemathesis.cli", "run", f"http://127.0.0.1:{port}/openapi.json",
                            "-H", f"X-API-Key: {key}", "--checks", "not_a_server_error", "-n", str(examples),
                            "-w", "2", "--request-timeout", "60", "--report", "har", "--report-dir", str(report),
                            "--seed", str(rounds)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           cwd=work, check=False)  # schemathesis keeps a cache in its working directory
            answered = _har_entries(report)
            entries += answered
            # Next round: more examples per operation (new inputs, not repeats), sized to what is left.
            per_example = max(len(answered) / examples, 1.0)
            examples = min(2 * examples, int((requests - len(entries)) / per_example) + 1)
            print(f"{name}: {len(entries)} requests after round {rounds}", flush=True)
    finally:
        proc.terminate()
        proc.wait(60)
    statuses = [int(e["response"]["status"]) for e in entries]
    errors = Counter(f"{e['request']['method']} {e['request']['url'].split('?')[0].split(str(port), 1)[-1]}"
                     for e in entries if int(e["response"]["status"]) >= 500)
    operations = {f"{e['request']['method']} {e['request']['url'].split('?')[0].split(str(port), 1)[-1]}"
                  for e in entries}
    return {"requests": len(entries), "responses_5xx": sum(s >= 500 for s in statuses),
            "by_class": dict(Counter(f"{s // 100}xx" for s in statuses)), "errors_by_request": dict(errors),
            "distinct_requests": len(operations), "seconds": round(time.monotonic() - started, 1)}


def run(requests: int = 50_000, out: str = "bench/results/fuzz.json",
        pg_server: str = "postgresql+psycopg2://root@127.0.0.1:5432/test", redis: str = "redis://127.0.0.1:6379/11",
        stacks: tuple[str, ...] = ("embedded", "redis-postgres")) -> dict[str, Any]:
    """Both stacks, one after the other; writes and returns the document."""
    from shared.db import create_database

    work = Path(f"/tmp/aura-fuzz-{uuid.uuid4().hex[:8]}")
    work.mkdir(parents=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith("AURA_")}
    base |= {"AURA_AUTH_FAIL_LIMIT": "1000000000"}
    result: dict[str, Any] = {"requests_per_stack_asked": requests, "stacks": {}}
    for stack in stacks:
        env = base | {"AURA_DATA_DIR": str(work / stack)}
        if stack == "redis-postgres":
            env |= {"AURA_DATABASE_URL": create_database(pg_server, "aura_fuzz"), "AURA_BROKER_URL": redis}
        result["stacks"][stack] = fuzz_stack(stack, env, requests, work)
        print(json.dumps({stack: result["stacks"][stack]}, indent=1), flush=True)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=1) + "\n")
    return result

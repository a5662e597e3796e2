"""Running the grid: one federation per cell, in parallel processes, appended to a JSONL file as they finish.

A plain defence runs on Flower's strategies in this process (fl/runners/inprocess.py). AURA runs
AuraStrategy over FedAvg with the InProcessVetter on a scratch AURA of its own; afterwards every
verdict is read back from that AURA's database with its ranked reasons, so the results hold each
update's score, its per-signal severities (the ablation replays them) and whether each rejection
was explained.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.grid.grid import RunSpec
from bench.grid.metrics import auroc, counts
from fl.federation import FederationResult
from fl.inprocess_vetting import InProcessVetter
from fl.runners.inprocess import run_in_process
from shared.db import session_scope
from shared.models import Decision, Submission

# Numbers libraries would otherwise spread over every core: the benchmark runs one federation
# per process, and two processes on two cores.
_SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
FINAL_KEYS = ("pooled_accuracy", "mean_centre_accuracy", "pooled_balanced_accuracy", "pooled_auc", "pooled_loss",
              "backdoor_asr")


def _quiet() -> None:
    logging.getLogger("flwr").setLevel(logging.ERROR)


def _final(result: FederationResult) -> dict[str, Any]:
    metrics = result.final_metrics
    out: dict[str, Any] = {k: float(metrics[k]) for k in FINAL_KEYS}
    out["centres"] = {k.split("/", 1)[1]: float(v) for k, v in metrics.items() if k.startswith("accuracy/")}
    return out


def _explained(reasons: list[dict[str, Any]], threshold: float) -> bool:
    """A rejection is explained when its reasons are ranked, the first crosses the threshold and says its numbers."""
    severities = [float(r.get("severity", 0.0)) for r in reasons]
    first = reasons[0] if reasons else {}
    return (bool(reasons) and severities == sorted(severities, reverse=True) and severities[0] >= threshold
            and any(ch.isdigit() for ch in str(first.get("text", ""))) and bool(first.get("signal")))


def vetted_updates(result: FederationResult, attackers: Iterable[str]) -> list[dict[str, Any]]:
    """Every update AURA vetted in this run, in order of arrival, with its verdict and evidence."""
    flower_round = {r.aura_round: r.round for r in result.rounds if r.aura_round is not None}
    bad = set(attackers)
    out: list[dict[str, Any]] = []
    with session_scope() as session:
        rows = session.execute(select(Submission, Decision).join(Decision, Decision.submission_id == Submission.id)
                               .order_by(Submission.created_at, Submission.id)).all()
        for submission, decision in rows:
            if submission.round not in flower_round:
                continue
            reasons: list[dict[str, Any]] = decision.reasons or []
            update: dict[str, Any] = {
                "round": flower_round[submission.round], "hospital": submission.hospital_id,
                "malicious": submission.hospital_id in bad, "verdict": decision.verdict,
                "score": float(decision.score),
                "signals": {str(r["signal"]): round(float(r["severity"]), 4) for r in reasons},
            }
            if decision.verdict == "rejected":
                update["reason"] = str(reasons[0].get("text", "")) if reasons else ""
                update["explained"] = _explained(reasons, float(decision.threshold))
            out.append(update)
    return out


def detection(updates: list[dict[str, Any]]) -> dict[str, Any]:
    malicious = [u["malicious"] for u in updates]
    c = counts(malicious, [u["verdict"] != "accepted" for u in updates])
    return {**c.as_dict(), "auroc": auroc([u["score"] for u in updates], malicious),
            "unexplained_rejections": sum(1 for u in updates if u["verdict"] == "rejected" and not u["explained"])}


def run_one(spec: RunSpec) -> dict[str, Any]:
    """Run one cell of the grid and return its record (see bench/results/detection.md for the layout)."""
    _quiet()
    record: dict[str, Any] = {"key": spec.key, "task": spec.task, "split": spec.split, "hospitals": spec.hospitals,
                              "attackers": list(spec.attackers), "attack": spec.attack, "defence": spec.defence,
                              "seed": spec.seed}
    runnable, why = spec.runnable()
    if not runnable:
        return {**record, "status": "not_applicable", "note": why}
    config = spec.config()
    started = time.monotonic()
    if spec.defence == "aura":
        from bench.grid.scratch import scratch_aura

        with scratch_aura():
            result = run_in_process(config, vetter=InProcessVetter(config.hospitals))
            updates = vetted_updates(result, spec.attackers)
        record["detection"] = detection(updates)
        record["updates"] = updates
    else:
        result = run_in_process(config)
    record.update(status="ok", final=_final(result), seconds=round(time.monotonic() - started, 2),
                  finished_at=round(time.time(), 1))
    return record


def _worker_init() -> None:
    os.environ.update(_SINGLE_THREAD)
    _quiet()


def done_keys(path: Path) -> set[str]:
    """Keys of the runs already in a JSONL results file (a partial line from a crash is ignored)."""
    keys: set[str] = set()
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                keys.add(json.loads(line)["key"])
            except (ValueError, KeyError):
                continue
    return keys


def run_grid(specs: Iterable[RunSpec], out: Path, *, workers: int = 2,
             on_record: Callable[[dict[str, Any]], None] | None = None) -> int:
    """Run every spec not yet in `out` (JSONL, appended as runs finish); how many ran."""
    out.parent.mkdir(parents=True, exist_ok=True)
    skip = done_keys(out)
    todo = [s for s in specs if s.key not in skip]
    os.environ.update(_SINGLE_THREAD)  # inherited by the worker processes
    if workers <= 1:  # in this process, one after the other (tests, debugging)
        with out.open("a") as sink:
            for spec in todo:
                record = run_one(spec)
                sink.write(json.dumps(record) + "\n")
                if on_record is not None:
                    on_record(record)
        return len(todo)
    ran = 0
    with out.open("a") as sink, ProcessPoolExecutor(workers, mp_context=get_context("spawn"),
                                                    initializer=_worker_init) as pool:
        pending: set[Future[dict[str, Any]]] = set()
        queue = iter(todo)
        # A bounded window of submitted runs: results stream out in roughly grid order.
        for spec in queue:
            pending.add(pool.submit(run_one, spec))
            if len(pending) >= 2 * workers:
                break
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                record = future.result()
                sink.write(json.dumps(record) + "\n")
                sink.flush()
                ran += 1
                if on_record is not None:
                    on_record(record)
                nxt = next(queue, None)
                if nxt is not None:
                    pending.add(pool.submit(run_one, nxt))
    return ran

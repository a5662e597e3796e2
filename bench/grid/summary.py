"""From run records to the benchmark's document: per-defence summaries, AURA's detection, the goals.

Accuracy is the final global model's accuracy on the pooled test set (FLamby's first figure),
averaged over seeds. A "cell" is one attack run by one attacker scenario; the worst case of a
defence is its lowest seed-averaged accuracy over all attacked cells of a task.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.grid.ablation import ablation
from bench.grid.grid import DEFENCES, NO_ATTACK, Scenario
from bench.grid.metrics import Counts, auroc, tpr_at_fpr

ROBUST = ("krum", "multikrum", "bulyan", "fedmedian", "fedtrimmedavg", "clipping")
# The document keeps accuracies to 5 decimals, and a runs file rebuilt from it mixes such records
# with fresh ones: "not below" and "no drop" allow a difference that small.
PRECISION = 1e-5
Record = dict[str, Any]


def load_runs(path: Path, *, tasks: Iterable[str] | None = None, seeds: Iterable[int] | None = None) -> list[Record]:
    """The records of a JSONL runs file (last record per key wins), restricted to these tasks and seeds."""
    keep_tasks, keep_seeds = set(tasks or []), set(seeds or [])
    records: dict[str, Record] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if (keep_tasks and record["task"] not in keep_tasks) or (keep_seeds and record["seed"] not in keep_seeds):
                continue
            records[record["key"]] = record
    return list(records.values())


def scenario_name(record: Record) -> str:
    """The attacker scenario's label ("none" without attack)."""
    if not record["attackers"]:
        return f"none ({record['hospitals']} hospitals)"
    return Scenario(record["split"], tuple(record["attackers"])).name


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return statistics.fmean(items) if items else None


def _ok(records: Iterable[Record]) -> list[Record]:
    return [r for r in records if r.get("status") == "ok"]


def _cells(records: list[Record]) -> dict[tuple[str, str], list[Record]]:
    cells: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for r in records:
        cells[(r["attack"], scenario_name(r))].append(r)
    return cells


def defence_summary(records: list[Record]) -> dict[str, Any]:
    """Accuracy without attack, per attack, mean and worst case, and backdoor success, for one defence and task."""
    ok = _ok(records)
    clean = [r for r in ok if r["attack"] == NO_ATTACK]
    attacked = [r for r in ok if r["attack"] != NO_ATTACK]
    cells = {k: _mean(r["final"]["pooled_accuracy"] for r in v) for k, v in _cells(attacked).items()}
    per_attack = {a: _mean(r["final"]["pooled_accuracy"] for r in attacked if r["attack"] == a)
                  for a in sorted({r["attack"] for r in attacked})}
    worst = min(cells.items(), key=lambda kv: kv[1] or 0.0) if cells else None
    worst_attack = min(per_attack.items(), key=lambda kv: kv[1] or 0.0) if per_attack else None
    backdoored = [r["final"]["backdoor_asr"] for r in attacked if r["attack"] in ("backdoor", "scaling")]
    centres = sorted({c for r in clean for c in r["final"]["centres"]})
    return {
        "runs": len(ok), "not_applicable": sum(1 for r in records if r.get("status") == "not_applicable"),
        "no_attack": {
            "pooled_accuracy": _mean(r["final"]["pooled_accuracy"] for r in clean),
            "mean_centre_accuracy": _mean(r["final"]["mean_centre_accuracy"] for r in clean),
            "pooled_balanced_accuracy": _mean(r["final"]["pooled_balanced_accuracy"] for r in clean),
            "pooled_auc": _mean(r["final"]["pooled_auc"] for r in clean),
            "backdoor_asr": _mean(r["final"]["backdoor_asr"] for r in clean),
            "centres": {c: _mean(r["final"]["centres"][c] for r in clean) for c in centres},
        },
        "mean_accuracy_under_attack": _mean(r["final"]["pooled_accuracy"] for r in attacked),
        "mean_centre_accuracy_under_attack": _mean(r["final"]["mean_centre_accuracy"] for r in attacked),
        "accuracy_by_attack": per_attack,
        "worst_case": {"accuracy": worst[1], "attack": worst[0][0], "attackers": worst[0][1]} if worst else None,
        "worst_attack": {"accuracy": worst_attack[1], "attack": worst_attack[0]} if worst_attack else None,
        "cells": [{"attack": a, "attackers": s, "accuracy": v} for (a, s), v in sorted(cells.items())],
        "backdoor_asr": {"mean": _mean(backdoored), "max": max(backdoored) if backdoored else None},
    }


def detection_summary(records: list[Record]) -> dict[str, Any]:
    """AURA's per-update detection over every vetted update of a task: counts, rates, AUROC, by attack and hospital."""
    updates = [(r, u) for r in _ok(records) for u in r.get("updates", [])]
    if not updates:
        return {}

    def rates(pairs: list[tuple[Record, Record]]) -> dict[str, Any]:
        c = sum((Counts(int(u["malicious"] and u["verdict"] != "accepted"),
                        int(not u["malicious"] and u["verdict"] != "accepted"),
                        int(not u["malicious"] and u["verdict"] == "accepted"),
                        int(u["malicious"] and u["verdict"] == "accepted")) for _, u in pairs), Counts(0, 0, 0, 0))
        return c.as_dict()

    scores, truth = [u["score"] for _, u in updates], [bool(u["malicious"]) for _, u in updates]
    best = tpr_at_fpr(scores, truth, 0.02)
    by_attack = {a: rates([p for p in updates if p[0]["attack"] == a])
                 for a in sorted({r["attack"] for r, _ in updates})}
    by_cell = {f"{a} / {s}": rates([p for p in updates if p[0]["attack"] == a and scenario_name(p[0]) == s])
               for a, s in sorted({(r["attack"], scenario_name(r)) for r, _ in updates if r["attack"] != NO_ATTACK})}
    honest_by_hospital = {h: rates([p for p in updates if p[1]["hospital"] == h and not p[1]["malicious"]])
                          for h in sorted({u["hospital"] for _, u in updates})}
    return {
        "overall": {**rates(updates), "auroc": auroc(scores, truth),
                    "best_tpr_at_fpr_0.02": best[0] if best else None,
                    "threshold_for_it": best[1] if best else None},
        "excluding_round_1": rates([p for p in updates if p[1]["round"] > 1]),
        "no_attack": rates([p for p in updates if p[0]["attack"] == NO_ATTACK]),
        "by_attack": by_attack, "by_cell": by_cell, "honest_by_hospital": honest_by_hospital,
        "unexplained_rejections": sum(int(r["detection"]["unexplained_rejections"]) for r in _ok(records)),
        "rejections": sum(1 for _, u in updates if u["verdict"] != "accepted"),
        "top_signal_of_rejections": _top_signals(updates),
    }


def _top_signals(updates: list[tuple[Record, Record]]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for _, u in updates:
        if u["verdict"] != "accepted":
            out[max(u["signals"].items(), key=lambda kv: (kv[1], kv[0]))[0]] += 1
    return dict(sorted(out.items()))


def goals(task_summary: dict[str, Any], detection: dict[str, Any], fedavg_clean_by_split: dict[int, float],
          aura_cells: list[Record]) -> list[dict[str, Any]]:
    """The issue's goals for one task, each with its target, the measured value and whether it is met."""
    aura = task_summary.get("aura", {})
    out: list[dict[str, Any]] = []
    overall = detection.get("overall", {})
    tpr, fpr = overall.get("tpr"), overall.get("fpr")
    out.append({"goal": "per-update TPR >= 0.95 at FPR <= 0.02 (all attacks, attackers, honest updates)",
                "value": {"tpr": tpr, "fpr": fpr}, "met": tpr is not None and fpr is not None
                and tpr >= 0.95 and fpr <= 0.02})
    gaps = []
    for cell in aura_cells:
        reference = fedavg_clean_by_split.get(cell["split"])
        if reference is not None:
            gaps.append((cell["accuracy"] - reference, cell["attack"], cell["attackers"]))
    worst_gap = min(gaps) if gaps else None
    out.append({"goal": "pooled accuracy under every attack within 1 point of FedAvg without attack",
                "value": {"worst_gap": worst_gap[0] if worst_gap else None,
                          "worst_cell": f"{worst_gap[1]} / {worst_gap[2]}" if worst_gap else None,
                          "cells_failing": sum(1 for g in gaps if g[0] < -0.01), "cells": len(gaps)},
                "met": bool(gaps) and all(g[0] >= -0.01 for g in gaps)})
    robust = {d: s["worst_case"]["accuracy"] for d, s in task_summary.items()
              if d in ROBUST and s.get("worst_case")}
    best_robust = max(robust.items(), key=lambda kv: kv[1]) if robust else None
    aura_worst = (aura.get("worst_case") or {}).get("accuracy")
    out.append({"goal": "AURA's worst case >= 3 points above the best worst case of the robust strategies",
                "value": {"aura": aura_worst, "best_robust": best_robust[1] if best_robust else None,
                          "best_robust_defence": best_robust[0] if best_robust else None,
                          "margin": (aura_worst - best_robust[1]) if aura_worst is not None and best_robust else None},
                "met": aura_worst is not None and best_robust is not None and aura_worst >= best_robust[1] + 0.03})
    fedavg = task_summary.get("fedavg", {}).get("no_attack", {})
    aura_clean = aura.get("no_attack", {})
    drops = {c: aura_clean["centres"][c] - v for c, v in fedavg.get("centres", {}).items()
             if c in aura_clean.get("centres", {})}
    clean_gap = (aura_clean.get("pooled_accuracy") or 0.0) - (fedavg.get("pooled_accuracy") or 0.0)
    out.append({"goal": "without attack AURA not below FedAvg, and no honest centre's accuracy drops",
                "value": {"pooled_gap": clean_gap, "centre_changes": drops,
                          "honest_rejections": detection.get("no_attack", {}).get("fp")},
                "met": clean_gap >= -PRECISION and all(d >= -PRECISION for d in drops.values())})
    asr = aura.get("backdoor_asr", {})
    out.append({"goal": "backdoor attack success rate <= 2% (backdoor and scaling attacks)",
                "value": {"mean": asr.get("mean"), "max": asr.get("max"),
                          "fedavg_without_attack": fedavg.get("backdoor_asr")},
                "met": asr.get("max") is not None and asr["max"] <= 0.02})
    out.append({"goal": "every rejection carries ranked reasons naming the evidence, with numbers",
                "value": {"rejections": detection.get("rejections"),
                          "unexplained": detection.get("unexplained_rejections")},
                "met": detection.get("unexplained_rejections") == 0})
    return out


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def _compact(record: Record) -> Record:
    """A run record for the JSON document: numbers to 5 decimals, AURA's updates as compact rows."""
    out = {k: _rounded(v) for k, v in record.items() if k != "updates"}
    if "updates" in record:
        out["updates"] = [[u["round"], u["hospital"], int(u["malicious"]), round(u["score"], 4),
                           int(u["verdict"] != "accepted")] for u in record["updates"]]
    return out


def summarise(records: list[Record]) -> dict[str, Any]:
    """The whole document: meta, a summary per task and defence, AURA's detection, ablation, goals, runs."""
    tasks: dict[str, Any] = {}
    for task in sorted({r["task"] for r in records}):
        mine = [r for r in records if r["task"] == task]
        per_defence = {d: defence_summary([r for r in mine if r["defence"] == d]) for d in DEFENCES
                       if any(r["defence"] == d for r in mine)}
        aura_runs = [r for r in mine if r["defence"] == "aura"]
        detection = detection_summary(aura_runs)
        clean = {split: _mean(r["final"]["pooled_accuracy"] for r in _ok(mine)
                              if r["defence"] == "fedavg" and r["attack"] == NO_ATTACK and r["split"] == split)
                 for split in sorted({r["split"] for r in mine})}
        aura_cells = [{"attack": a, "attackers": s, "split": v[0]["split"],
                       "accuracy": _mean(r["final"]["pooled_accuracy"] for r in v)}
                      for (a, s), v in _cells([r for r in _ok(aura_runs) if r["attack"] != NO_ATTACK]).items()]
        tasks[task] = {
            "defences": per_defence, "detection": detection,
            "fedavg_without_attack_by_split": {str(k): v for k, v in clean.items()},
            "ablation": ablation(aura_runs),
            "goals": goals(per_defence, detection, {k: v for k, v in clean.items() if v is not None}, aura_cells),
        }
    seconds = sum(float(r.get("seconds", 0.0)) for r in records)
    # From the first run's start to the last run's end (includes any pause between resumed invocations).
    timed = [r for r in records if r.get("finished_at") is not None]
    span = (max(float(r["finished_at"]) for r in timed)
            - min(float(r["finished_at"]) - float(r.get("seconds", 0.0)) for r in timed)) if timed else 0.0
    meta = {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": len(records), "ok": sum(1 for r in records if r.get("status") == "ok"),
        "not_applicable": sum(1 for r in records if r.get("status") == "not_applicable"),
        "seeds": sorted({r["seed"] for r in records}), "tasks": sorted({r["task"] for r in records}),
        "attacks": sorted({r["attack"] for r in records}), "defences": [d for d in DEFENCES
                                                                         if any(r["defence"] == d for r in records)],
        "run_seconds_total": round(seconds, 1), "wall_seconds_first_to_last_run": round(span, 1),
    }
    return {"meta": meta, "tasks": tasks, "runs": [_compact(r) for r in sorted(records, key=lambda r: r["key"])]}

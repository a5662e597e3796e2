"""The detector's honest calibration, reproduced: AURA vets no-attack federations, and every feature's range is kept.

`python -m bench.grid.calibrate` runs Fed-Heart-Disease without attack for both models, 4 and 8
hospitals and seeds 0-9 (never the benchmark's 42-46), vetted by AURA in process, reads back every
decision's features and writes their honest ranges to bench/results/calibration.json. The rules'
`fine` ends (services/detector/scoring.py) and the honest update scale
(services/detector/calibration.py) were set beyond these ranges; no attacked run is used.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.grid.grid import TASKS, RunSpec
from bench.grid.scratch import scratch_aura
from fl.inprocess_vetting import InProcessVetter
from fl.runners.inprocess import run_in_process
from services.detector.scoring import derived
from shared.db import session_scope
from shared.models import Decision

SEEDS = tuple(range(10))
FEATURES = ("loss_ratio", "loss_slope", "accuracy_delta", "norm_ratio", "scale_ratio", "cos_step",
            "against_index", "crafted_residual", "copy_distance", "fp_cos")


def honest_features(spec: RunSpec) -> tuple[list[dict[str, Any]], list[float]]:
    """Every decision's features in one no-attack federation vetted by AURA, and every reason's severity."""
    config = spec.config()
    with scratch_aura():
        run_in_process(config, vetter=InProcessVetter(config.hospitals))
        with session_scope() as session:
            decisions = session.scalars(select(Decision)).all()
            rows = [{**d.features, **derived(d.features), "verdict": d.verdict} for d in decisions]
            severities = [float(r["severity"]) for d in decisions for r in d.reasons]
    return rows, severities


def calibrate(tasks: tuple[str, ...] = TASKS, seeds: tuple[int, ...] = SEEDS) -> dict[str, Any]:
    """Honest ranges of every feature per task, the largest severity any rule gave, and honest rejections."""
    out: dict[str, Any] = {}
    for task in tasks:
        rows: list[dict[str, Any]] = []
        worst = 0.0
        for split in (1, 2):
            for seed in seeds:
                found, severities = honest_features(RunSpec(task, split, (), "none", "aura", seed))
                rows += found
                worst = max([worst, *severities])
        ranges = {}
        for name in FEATURES:
            values = [float(r[name]) for r in rows if r.get(name) is not None]
            ranges[name] = {"min": min(values), "max": max(values)} if values else None
        # The crafted-update residual by its reference: last round's accepted updates, or (in a
        # federation's first round) the round's earlier updates.
        for reference, label in (("the other hospitals' accepted updates last round", "previous_round"),
                                 ("this round's earlier updates", "first_round")):
            values = [float(r["crafted_residual"]) for r in rows
                      if r.get("crafted_residual") is not None and r.get("crafted_reference") == reference]
            ranges[f"crafted_residual_{label}"] = {"min": min(values), "max": max(values), "n": len(values)} \
                if values else None
        out[task] = {"federations": 2 * len(seeds), "updates": len(rows),
                     "rejected": sum(1 for r in rows if r["verdict"] != "accepted"),
                     "largest_severity": worst, "ranges": ranges}
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/calibration.json")
    result = calibrate()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=1) + "\n")
    sys.stdout.write(json.dumps(result, indent=1) + "\n")

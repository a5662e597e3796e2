"""What the golden rows of a hospital's own centre would add to the detector: an offline measurement.

AURA's golden set is 20% of each centre's training rows, held by the server, and the server knows
which centre each row came from. The evaluator scores an update on all golden rows together, where
a flipped Switzerland (98% positive) looks like an honest hospital with the opposite prevalence.
On the rows of the hospital's *own* centre an honest local SGD step descends the loss (the rows
are a sample of the data it trained on); a label- or sign-flipped step climbs it.

`python -m bench.grid.own_rows --honest` measures the same on every honest update of the
calibration's 40 no-attack federations (seeds 0-9, 4 and 8 hospitals, both models) and writes
bench/results/own-rows-calibration.json (`--honest FIRST LAST OUT [TASK ...]`: other seeds).
`python -m bench.grid.own_rows TASK SEED OUT` runs the
quick grid's AURA federations of TASK (4 hospitals, every attack and attacker, and no attack)
with the detector as it is, and for every vetted update computes the golden loss change per unit
of update norm on its own centre's rows. It writes the honest and malicious ranges and the
detection AURA would have if it also rejected every update whose own-rows loss climbs (change > 0
per unit norm, a threshold from first principles, not fitted). It is a replay on the same updates,
not a re-run: later rounds' global models would differ once more updates are rejected. This was
the measurement behind the detector's `own_rows_slope` rule (services/detector/scoring.py), which
now scores every update; `--honest FIRST LAST OUT` rechecks its honest margin on other seeds.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from sqlalchemy import select

from bench.grid.grid import CENTRE_IDS, TASKS, RunSpec, grid, scenarios
from bench.grid.metrics import counts
from bench.grid.scratch import scratch_aura
from fl.inprocess_vetting import InProcessVetter
from fl.runners.inprocess import run_in_process
from fl.task import hospital_id
from shared.db import session_scope
from shared.models import Decision, Submission
from shared.modeltask import heart
from shared.modeltask.registry import get_task
from shared.weights import Weights, flatten, global_model, load_weights, scope_of

CLIMBS = 0.0  # an honest step on a centre's data does not climb the loss on that centre's rows


def _loss(task_name: str, weights: Weights, rows: NDArray[np.bool_]) -> float:
    """Mean BCE of the task's model with these weights on the selected golden rows."""
    task = get_task(task_name)
    with torch.no_grad():
        logits = task.model_from(weights)(torch.from_numpy(task.golden.x[rows])).numpy().astype(np.float64).ravel()
    labels = task.golden.y[rows].astype(np.float64)
    return float(np.mean(np.logaddexp(0.0, logits) - labels * logits))


def own_slopes(spec: RunSpec) -> list[dict[str, Any]]:
    """Every update AURA vetted in one federation, with its verdict and its own-rows loss change per unit norm."""
    centre_of_row = np.asarray([hospital_id(str(c)) for c in heart.load().golden_centre])
    config = spec.config()
    out: list[dict[str, Any]] = []
    with scratch_aura():
        run_in_process(config, vetter=InProcessVetter(config.hospitals))
        with session_scope() as session:
            rows = session.execute(select(Submission, Decision).join(Decision, Decision.submission_id == Submission.id)
                                   .order_by(Submission.created_at, Submission.id)).all()
            for submission, decision in rows:
                reference = global_model(session, scope_of(submission), submission.round)
                assert reference is not None
                before, after = load_weights(reference.file_sha256), load_weights(submission.file_sha256)
                centre = submission.hospital_id.rsplit("-", 1)[0] if spec.split > 1 else submission.hospital_id
                mine = centre_of_row == centre
                norm = float(np.linalg.norm(flatten(after) - flatten(before)))
                change = _loss(spec.task, after, mine) - _loss(spec.task, before, mine)
                out.append({"attack": spec.attack, "hospital": submission.hospital_id,
                            "malicious": submission.hospital_id in spec.attackers,
                            "rejected": decision.verdict != "accepted",
                            "own_slope": change / norm if norm > 1e-12 else 0.0})
    return out


def measure(task: str, seed: int) -> dict[str, Any]:
    """Honest and malicious own-rows slopes over the quick grid, and AURA's detection with and without the rule."""
    chosen = scenarios(task, (1,))
    updates = [u for spec in grid((task,), (seed,), defences=("aura",), scenario_list=chosen) for u in own_slopes(spec)]
    honest = [u["own_slope"] for u in updates if not u["malicious"]]
    by_attack: dict[str, list[float]] = defaultdict(list)
    for u in updates:
        if u["malicious"]:
            by_attack[f"{u['attack']} / {u['hospital']}"].append(u["own_slope"])
    truth = [bool(u["malicious"]) for u in updates]
    with_rule = counts(truth, [u["rejected"] or u["own_slope"] > CLIMBS for u in updates])
    return {
        "task": task, "seed": seed, "updates": len(updates), "threshold": CLIMBS,
        "honest": {"min": min(honest), "max": max(honest), "n": len(honest)},
        "honest_by_centre": {c: {"min": min(v), "max": max(v)} for c in CENTRE_IDS
                             if (v := [u["own_slope"] for u in updates if not u["malicious"] and u["hospital"] == c])},
        "malicious": {k: {"min": min(v), "max": max(v)} for k, v in sorted(by_attack.items())},
        "aura": counts(truth, [bool(u["rejected"]) for u in updates]).as_dict(),
        "aura_or_own_rows_climb": with_rule.as_dict(),
    }


def honest_range(tasks: tuple[str, ...] = TASKS, seeds: tuple[int, ...] = tuple(range(10))) -> dict[str, Any]:
    """Own-rows slopes of every honest update of no-attack federations (4 and 8 hospitals), also per split."""
    out: dict[str, Any] = {}
    for task in tasks:
        by_split = {split: [u["own_slope"] for seed in seeds
                            for u in own_slopes(RunSpec(task, split, (), "none", "aura", seed))] for split in (1, 2)}
        values = by_split[1] + by_split[2]
        out[task] = {"seeds": list(seeds), "federations": 2 * len(seeds), "updates": len(values), "min": min(values),
                     "max": max(values), "climbing": sum(1 for v in values if v > CLIMBS),
                     "by_split": {f"{4 * split} hospitals": {"updates": len(v), "max": max(v),
                                                             "climbing": sum(1 for x in v if x > CLIMBS)}
                                  for split, v in by_split.items()}}
    return out


if __name__ == "__main__" and sys.argv[1:2] == ["--honest"]:
    # --honest [FIRST LAST OUT [TASK ...]]: the calibration's seeds 0-9 by default; other seeds
    # (never the benchmark's 42-46) recheck the rule's honest margin.
    first, last = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (0, 9)
    out_path = Path(sys.argv[4] if len(sys.argv) > 4 else "bench/results/own-rows-calibration.json")
    calibration = honest_range(tuple(sys.argv[5:]) or TASKS, tuple(range(first, last + 1)))
    out_path.write_text(json.dumps(calibration, indent=1) + "\n")
    sys.stdout.write(json.dumps(calibration, indent=1) + "\n")
elif __name__ == "__main__":
    task_name, seed_arg = (sys.argv[1], int(sys.argv[2])) if len(sys.argv) > 2 else ("heart-mlp", 42)
    target = Path(sys.argv[3] if len(sys.argv) > 3 else f"bench/results/quick/own-rows-{task_name}.json")
    result = measure(task_name, seed_arg)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=1) + "\n")
    sys.stdout.write(json.dumps({k: result[k] for k in ("honest", "aura", "aura_or_own_rows_climb")}, indent=1) + "\n")

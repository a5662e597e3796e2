"""FedAvg on FLamby's Fed-Heart-Disease protocol beside FLamby's published numbers.

`python -m bench.flamby [--seeds 42 43 44 45 46] [--runner inprocess] [--out FILE]`
runs plain FedAvg (no attack, no AURA) with heart-logreg, 15 rounds x 100 local steps, batch 4,
SGD lr 1e-3, once per seed, and reports FLamby's two figures: the mean of the four centres' test
accuracies and the accuracy on the pooled test set.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from fl.config import FederationConfig
from fl.runners import RUNNERS, run

# Ogier du Terrail et al., NeurIPS 2022 Datasets and Benchmarks (shared/modeltask/data/PROVENANCE.md).
FLAMBY_FEDAVG = {"mean_centre_accuracy": 0.685, "pooled_accuracy": 0.748}


def measure(seeds: list[int], runner: str = "inprocess") -> dict[str, Any]:
    """FedAvg's two figures per seed, their mean and standard deviation, and FLamby's published values."""
    per_seed = {}
    for seed in seeds:
        result = run(FederationConfig(task="heart-logreg", seed=seed), runner=runner)  # type: ignore[arg-type]
        per_seed[seed] = {k: result.final_metrics[k] for k in FLAMBY_FEDAVG}
    summary = {k: {"mean": float(np.mean([s[k] for s in per_seed.values()])),
                   "std": float(np.std([s[k] for s in per_seed.values()])), "flamby": v}
               for k, v in FLAMBY_FEDAVG.items()}
    return {"protocol": "heart-logreg, 4 centres, 15 rounds x 100 local steps, batch 4, SGD lr 1e-3",
            "runner": runner, "seeds": per_seed, "summary": summary}


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44, 45, 46])
    parser.add_argument("--runner", choices=RUNNERS, default="inprocess")
    parser.add_argument("--out", type=Path, default=Path("bench/results/flamby_fedavg.json"))
    args = parser.parse_args(argv)
    report = measure(args.seeds, args.runner)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    for key, row in report["summary"].items():
        sys.stdout.write(f"{key}: {row['mean']:.3f} +- {row['std']:.3f} (FLamby {row['flamby']:.3f})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

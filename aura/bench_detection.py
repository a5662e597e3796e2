"""`aura bench detection`: AURA against Flower's robust aggregators on Fed-Heart-Disease (issue 4).

Runs the grid of fl/bench/grid.py (resumable: finished runs are kept in a JSONL file and skipped
on the next start), then summarises every run found in that file into bench/results/detection.json
and writes the report bench/results/detection.md with its plots.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fl.bench.grid import ATTACK_NAMES, DEFENCES, SEEDS, TASKS, grid, scenarios


@dataclass(frozen=True)
class Options:
    """What to run and where to write it."""

    tasks: tuple[str, ...] = TASKS
    seeds: tuple[int, ...] = SEEDS
    attacks: tuple[str, ...] = ATTACK_NAMES
    defences: tuple[str, ...] = DEFENCES
    splits: tuple[int, ...] = (1, 2)
    workers: int = 2
    runs: Path = Path(".aura/bench/detection-runs.jsonl")  # one JSON line per finished run (resumable)
    out: Path = Path("bench/results/detection.json")
    report: Path = Path("bench/results/detection.md")
    run: bool = True  # False: only summarise what the runs file already holds


def quick_options() -> Options:
    """One seed, the MLP only, 4 hospitals: a smoke run of every attack and defence in minutes."""
    return Options(tasks=("heart-mlp",), seeds=(42,), splits=(1,), runs=Path(".aura/bench/quick-runs.jsonl"),
                   out=Path("bench/results/quick/detection.json"), report=Path("bench/results/quick/detection.md"))


def run_detection(options: Options) -> dict[str, Any]:
    """Run what is missing, then summarise and report; returns the summary document."""
    from fl.bench.report import write_report
    from fl.bench.runner import run_grid
    from fl.bench.summary import load_runs, summarise

    started = time.monotonic()
    if options.run:
        chosen = [s for s in scenarios() if s.split in options.splits]
        specs = list(grid(options.tasks, options.seeds, options.attacks, options.defences, chosen))
        done = [0]

        def progress(record: dict[str, Any]) -> None:
            done[0] += 1
            if done[0] % 25 == 0 or done[0] == len(specs):
                print(f"{done[0]} runs done ({time.monotonic() - started:.0f} s): last {record['key']}", flush=True)

        print(f"{len(specs)} runs in the selection; writing to {options.runs}", flush=True)
        run_grid(specs, options.runs, workers=options.workers, on_record=progress)
    document = summarise(load_runs(options.runs, tasks=options.tasks, seeds=options.seeds))
    document["meta"].update(wall_seconds_this_invocation=round(time.monotonic() - started, 1),
                            workers=options.workers, json=str(options.out))
    write_report(document, options.out, options.report)
    print(f"wrote {options.out} and {options.report}")
    return document

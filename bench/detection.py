"""`aura bench detection`: AURA against Flower's robust aggregators (issue 4), on any installed task.

Runs the grid of bench/grid/grid.py (resumable: finished runs are kept in a JSONL file and skipped
on the next start), then summarises every run found in that file into bench/results/detection.json
(both heart models, the default) or detection-NAME.json (`--task NAME`), and writes the report
beside it with its plots.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.grid.grid import ATTACK_NAMES, DEFENCES, SEEDS, TASKS, grid
from fl.task import LOCAL_STEPS, ROUNDS


@dataclass(frozen=True)
class Options:
    """What to run and where to write it."""

    tasks: tuple[str, ...] = TASKS
    seeds: tuple[int, ...] = SEEDS
    attacks: tuple[str, ...] = ATTACK_NAMES
    defences: tuple[str, ...] = DEFENCES
    splits: tuple[int, ...] = (1, 2)
    rotate: bool = False  # each attack in one scenario only, the next for the next attack
    rounds: int = ROUNDS
    local_steps: int = LOCAL_STEPS
    workers: int = 2
    runs: Path = Path(".aura/bench/detection-runs.jsonl")  # one JSON line per finished run (resumable)
    out: Path = Path("bench/results/detection.json")
    report: Path = Path("bench/results/detection.md")
    run: bool = True  # False: only summarise what the runs file already holds


def quick_options() -> Options:
    """One seed, the MLP only, 4 hospitals: a smoke run of every attack and defence in minutes."""
    return Options(tasks=("heart-mlp",), seeds=(42,), splits=(1,), runs=Path(".aura/bench/quick-runs.jsonl"),
                   out=Path("bench/results/quick/detection.json"), report=Path("bench/results/quick/detection.md"))


def task_options(task: str, *, quick: bool) -> Options:
    """One installed task, written to detection-TASK.json. Quick: seed 42, one hospital per centre, 5 rounds,
    each attack run by one centre (the next centre for the next attack)."""
    folder = Path("bench/results/quick" if quick else "bench/results")
    prefix = "quick-" if quick else ""
    options = Options(tasks=(task,), runs=Path(f".aura/bench/{prefix}detection-runs-{task}.jsonl"),
                      out=folder / f"detection-{task}.json", report=folder / f"detection-{task}.md")
    return replace(options, seeds=(42,), splits=(1,), rotate=True, rounds=5) if quick else options


def run_detection(options: Options) -> dict[str, Any]:
    """Run what is missing, then summarise and report; returns the summary document."""
    from bench.grid.report import write_report
    from bench.grid.runner import run_grid
    from bench.grid.summary import load_runs, summarise

    started = time.monotonic()
    if options.run:
        specs = list(grid(options.tasks, options.seeds, options.attacks, options.defences, None, options.rounds,
                          options.local_steps, splits=options.splits, rotate=options.rotate))
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

"""Calibration per federation, measured: honest hospitals with other training recipes, calibrated on shadow rounds.

For each recipe a federation first runs SHADOW_ROUNDS honest rounds (its own seed, never an
evaluated one) as calibration rounds (vouched for: accepted, with what AURA's defaults would have
said recorded); `calibrate` fits its thresholds to them; then the
same federation runs every attack of the suite and no attack, each attacker in turn, vetted with
that calibration. Each cell (task, recipe, seed, hospitals) is one scratch AURA; the records say
how many shadow updates the defaults rejected and the calibrated TPR and FPR, overall and per attack.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench.grid.grid import ATTACK_NAMES, NO_ATTACK
from bench.grid.metrics import Counts
from bench.grid.runner import _quiet, _worker_init, detection, vetted_updates
from fl.config import AttackSpec, FederationConfig
from fl.task import hospitals

SHADOW_ROUNDS = 5
SHADOW_SEED_OFFSET = 1000  # shadow rounds train on other batches and initialisations than the evaluated runs


@dataclass(frozen=True)
class Recipe:
    """A training recipe: SGD's learning rate, local steps per round and batch size."""

    lr: float
    local_steps: int
    batch_size: int


RECIPES: dict[str, Recipe] = {
    "flamby": Recipe(lr=1e-3, local_steps=100, batch_size=4),  # FLamby's, which AURA's defaults were fitted on
    "fast": Recipe(lr=0.05, local_steps=50, batch_size=4),  # about two epochs of a centre at lr 0.05
    "large-batch": Recipe(lr=0.02, local_steps=20, batch_size=16),
}


@dataclass(frozen=True)
class Cell:
    """One federation to calibrate and attack."""

    task: str
    recipe: str
    seed: int
    split: int
    rounds: int
    attacks: tuple[str, ...]
    every_attacker: bool  # each hospital's centre in turn attacks; else one attacker per attack, rotating

    @property
    def key(self) -> str:
        """Identifier in the results file."""
        return f"{self.task}|{self.recipe}|{self.seed}|{self.split}|{self.rounds}"

    def config(self, seed: int, rounds: int, attacks: tuple[AttackSpec, ...] = ()) -> FederationConfig:
        """The federation under this cell's recipe."""
        recipe = RECIPES[self.recipe]
        return FederationConfig(task=self.task, split=self.split, seed=seed, rounds=rounds, lr=recipe.lr,
                                local_steps=recipe.local_steps, batch_size=recipe.batch_size, attacks=attacks)


def run_cell(cell: Cell) -> dict[str, Any]:
    """Shadow rounds, calibration, then every attack; the cell's record."""
    from bench.grid.scratch import scratch_aura
    from fl.inprocess_vetting import InProcessVetter
    from fl.runners.inprocess import run_in_process
    from services.detector.calibrate import calibrate
    from shared.db import session_scope
    from shared.models import Decision, FederationRun

    _quiet()
    started = time.monotonic()
    members = [h.name for h in hospitals(cell.task, cell.split)]
    with scratch_aura():
        with session_scope() as session:
            # The shadow rounds are the run's calibration rounds (after round 1, which the scratch
            # AURA opened for every task): vouched for, so the federation trains and builds history.
            session.get_one(FederationRun, (cell.task, 1)).calibration_rounds = 1 + SHADOW_ROUNDS
        shadow_config = cell.config(cell.seed + SHADOW_SEED_OFFSET, SHADOW_ROUNDS)
        shadow = run_in_process(shadow_config, vetter=InProcessVetter(shadow_config.hospitals))
        shadow_updates = vetted_updates(shadow, ())
        with session_scope() as session:
            would_reject = sum(f.get("calibration_round_verdict") == "rejected" for f in session.scalars(
                select(Decision.features)))
            fitted = calibrate(session, cell.task, 1, [r.aura_round for r in shadow.rounds if r.aura_round],
                               note=f"benchmark shadow rounds, seed {cell.seed + SHADOW_SEED_OFFSET}")
            bounds = {s: e["bounds"] for s, e in fitted.fitted["rules"].items() if e["bounds"] != e["default"]}
        runs = []
        for index, attack in enumerate((NO_ATTACK, *cell.attacks)):
            if attack == NO_ATTACK:
                attacker_sets: list[tuple[str, ...]] = [()]
            elif cell.every_attacker:
                attacker_sets = [(m,) for m in members]
            else:
                attacker_sets = [(members[index % len(members)],)]
            for attackers in attacker_sets:
                specs = tuple(AttackSpec(h, attack) for h in attackers)
                config = cell.config(cell.seed, cell.rounds, specs)
                result = run_in_process(config, vetter=InProcessVetter(config.hospitals))
                updates = vetted_updates(result, attackers)
                runs.append({"attack": attack, "attackers": list(attackers), "detection": detection(updates)})
    shadow_rejected = would_reject
    return {"key": cell.key, "task": cell.task, "recipe": cell.recipe, "seed": cell.seed,
            "hospitals": len(members), "rounds": cell.rounds, "shadow_updates": len(shadow_updates),
            "shadow_rejected_by_defaults": shadow_rejected, "calibration_moved": bounds,
            "honest_scale": fitted.fitted["honest_scale"], "runs": runs,
            "seconds": round(time.monotonic() - started, 1)}


def _sum(runs: list[dict[str, Any]]) -> Counts:
    total = Counts(0, 0, 0, 0)
    for r in runs:
        d = r["detection"]
        total = total + Counts(d["tp"], d["fp"], d["tn"], d["fn"])
    return total


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per task and recipe: defaults' FPR on the shadow rounds; calibrated TPR and FPR overall and per attack."""
    out: dict[str, Any] = {}
    for record in records:
        slot = out.setdefault(record["task"], {}).setdefault(record["recipe"], {"cells": 0, "shadow_updates": 0,
                                                                                 "shadow_rejected_by_defaults": 0,
                                                                                 "runs": []})
        slot["cells"] += 1
        slot["shadow_updates"] += record["shadow_updates"]
        slot["shadow_rejected_by_defaults"] += record["shadow_rejected_by_defaults"]
        slot["runs"] += record["runs"]
    for recipes in out.values():
        for name, slot in recipes.items():
            runs = slot.pop("runs")
            overall = _sum(runs)
            attacks = dict.fromkeys(r["attack"] for r in runs)
            by_attack = {a: _sum([r for r in runs if r["attack"] == a]) for a in attacks}
            recipes[name] = {**slot, "defaults_fpr_on_shadow": slot["shadow_rejected_by_defaults"] /
                             max(1, slot["shadow_updates"]),
                             "calibrated": {"tpr": overall.tpr, "fpr": overall.fpr, **overall.as_dict()},
                             "by_attack": {a: {"tpr": c.tpr, "fpr": c.fpr} for a, c in by_attack.items()}}
    return out


def run(cells: list[Cell], out: Path, workers: int) -> dict[str, Any]:
    """Run the cells not yet in `out` (JSONL), then summarise every record there."""
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {json.loads(line)["key"] for line in out.read_text().splitlines() if line.strip()} if out.exists() else set()
    todo = [c for c in cells if c.key not in done]
    with out.open("a") as sink:
        if workers <= 1:
            for cell in todo:
                sink.write(json.dumps(run_cell(cell)) + "\n")
                sink.flush()
        else:
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_worker_init) as pool:
                for record in pool.map(run_cell, todo):
                    sink.write(json.dumps(record) + "\n")
                    sink.flush()
    keys = {c.key for c in cells}
    records = [r for line in out.read_text().splitlines() if line.strip() and (r := json.loads(line))["key"] in keys]
    return summarise(records)


def cells_for(task: str, seeds: tuple[int, ...], splits: tuple[int, ...], rounds: int, quick: bool) -> list[Cell]:
    """Every (recipe, seed, hospitals) cell of a task."""
    return [Cell(task, recipe, seed, split, rounds, ATTACK_NAMES, every_attacker=not quick)
            for seed in seeds for split in splits for recipe in RECIPES]

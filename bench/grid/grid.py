"""The benchmark's grid: which federations run, under which defence, attack, attackers and seed.

By default Fed-Heart-Disease with FLamby's protocol (15 rounds x 100 local SGD steps, batch 4,
lr 1e-3), for the MLP and the logistic regression; any installed task runs the same way.
Attackers: each centre in turn (one hospital per centre, one attacker), and each centre in turn
with both of its halves when every centre is split in two (two attackers). Every attack of the
suite with its default parameters, and no attack. Every defence sees the same data, seeds and
attackers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from fl import task as fl_task
from fl.attacks import ATTACKS
from fl.config import AttackSpec, FederationConfig
from fl.task import LOCAL_STEPS, ROUNDS, hospital_id
from shared.modeltask.heart import CENTRES
from shared.modeltask.registry import get_task

TASKS = ("heart-mlp", "heart-logreg")
SEEDS = (42, 43, 44, 45, 46)  # FLamby's
NO_ATTACK = "none"
ATTACK_NAMES: tuple[str, ...] = tuple(ATTACKS)  # label-flip, sign-flip, gaussian-noise, scaling, alie, ipm, ...
# "aura" is AuraStrategy over FedAvg; the others are Flower's strategies (fl/federation.py).
CENTRE_IDS = tuple(hospital_id(c) for c in CENTRES)  # cleveland, hungary, switzerland, va-long-beach
DEFENCES = ("fedavg", "aura", "krum", "multikrum", "bulyan", "fedmedian", "fedtrimmedavg", "clipping")


@dataclass(frozen=True)
class Scenario:
    """Who attacks: `split` 1 (4 hospitals) or 2 (8 hospitals), and the attacking hospitals."""

    split: int
    attackers: tuple[str, ...]

    @property
    def name(self) -> str:
        """A label for tables: the attacking centre, "x2" when both of its halves attack."""
        centre = self.attackers[0].rsplit("-", 1)[0] if self.split > 1 else self.attackers[0]
        return centre if self.split == 1 else f"{centre} x{len(self.attackers)}"



def scenarios(task: str = TASKS[0], splits: tuple[int, ...] = (1, 2)) -> list[Scenario]:
    """Each centre attacks alone (split 1), or with both its halves (split 2)."""
    centres = [hospital_id(c.name) for c in get_task(task).dataset.centres]
    out = [Scenario(1, (c,)) for c in centres] if 1 in splits else []
    return out + ([Scenario(2, (f"{c}-1", f"{c}-2")) for c in centres] if 2 in splits else [])


@dataclass(frozen=True)
class RunSpec:
    """One cell of the grid."""

    task: str
    split: int
    attackers: tuple[str, ...]  # empty without attack
    attack: str  # an attack name, or NO_ATTACK
    defence: str
    seed: int
    rounds: int = ROUNDS  # FLamby's protocol unless a test shortens it
    local_steps: int = LOCAL_STEPS

    @property
    def key(self) -> str:
        """A unique, readable identifier (resuming skips the keys already done)."""
        who = "+".join(self.attackers) or "-"
        protocol = "" if (self.rounds, self.local_steps) == (ROUNDS, LOCAL_STEPS) else \
            f"|{self.rounds}x{self.local_steps}"
        return f"{self.task}|{self.split}|{who}|{self.attack}|{self.defence}|{self.seed}{protocol}"

    @property
    def hospitals(self) -> int:
        """How many hospitals the federation has."""
        return len(fl_task.hospitals(self.task, self.split))

    @property
    def malicious(self) -> int:
        """How many hospitals attack."""
        return len(self.attackers)

    def runnable(self) -> tuple[bool, str]:
        """Whether the defence can run here, and why not (Bulyan needs n >= 4f + 3)."""
        if self.defence == "bulyan" and self.hospitals < 4 * self.malicious + 3:
            return False, (f"Bulyan needs n >= 4f + 3 hospitals; here n = {self.hospitals}, "
                           f"f = {self.malicious} (needs {4 * self.malicious + 3})")
        return True, ""

    def config(self) -> FederationConfig:
        """The federation to run (the inner strategy is FedAvg for AURA)."""
        specs = tuple(AttackSpec(h, self.attack) for h in self.attackers) if self.attack != NO_ATTACK else ()
        strategy = "fedavg" if self.defence == "aura" else self.defence
        return FederationConfig(task=self.task, split=self.split, seed=self.seed, strategy=strategy, attacks=specs,
                                rounds=self.rounds, local_steps=self.local_steps)


def grid(tasks: tuple[str, ...] = TASKS, seeds: tuple[int, ...] = SEEDS,
         attacks: tuple[str, ...] = ATTACK_NAMES, defences: tuple[str, ...] = DEFENCES,
         scenario_list: list[Scenario] | None = None, rounds: int = ROUNDS,
         local_steps: int = LOCAL_STEPS, *, splits: tuple[int, ...] = (1, 2), rotate: bool = False) \
        -> Iterator[RunSpec]:
    """Every run, seed by seed (so a partial run is a complete grid for its first seeds).

    Scenarios are the task's own (`scenarios(task, splits)`) unless a list is given; `rotate`
    runs each attack in one scenario only, the next one for the next attack (a smoke run).
    """
    for seed in seeds:
        for task in tasks:
            chosen = scenario_list if scenario_list is not None else scenarios(task, splits)
            for split in sorted({s.split for s in chosen}):
                for defence in defences:
                    yield RunSpec(task, split, (), NO_ATTACK, defence, seed, rounds, local_steps)
            for number, attack in enumerate(attacks):
                for scenario in [chosen[number % len(chosen)]] if rotate else chosen:
                    for defence in defences:
                        yield RunSpec(task, scenario.split, scenario.attackers, attack, defence, seed, rounds,
                                      local_steps)

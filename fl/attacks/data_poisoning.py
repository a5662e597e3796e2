"""Attacks on what a hospital trains on: label flipping and a backdoor with the task's own trigger."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from fl.attacks.base import Attack, Schedule
from shared.modeltask.task import Backdoor as Trigger
from shared.modeltask.task import Task


def classes(task: Task) -> int:
    """How many labels the task has: 2 for a binary task, else the largest golden label plus one."""
    return 2 if task.objective.name == "binary" else int(task.golden.y.max()) + 1


@dataclass(frozen=True)
class LabelFlip(Attack):
    """Label flipping (Tolpegin et al., ESORICS 2020): every label y becomes (classes - 1) - y (binary: 0 <-> 1)."""

    name: ClassVar[str] = "label-flip"

    def poison(self, task: Task, x: NDArray[np.float32], y: NDArray[np.float32],
               rng: np.random.Generator) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """All labels flipped."""
        return x, (classes(task) - 1 - y).astype(np.float32)


def trigger_of(task: Task) -> Trigger:
    """The task's backdoor trigger; ValueError when the task declares none."""
    if task.backdoor is None:
        raise ValueError(f"task {task.name} declares no backdoor trigger, so backdoor attacks cannot run on it")
    return task.backdoor


def attack_success_rate(task: Task, outputs_fn: Callable[[NDArray[np.float32]], NDArray[np.float32]],
                        x: NDArray[np.float32], y: NDArray[np.float32]) -> float:
    """Share of rows not already labelled with the backdoor's target that the trigger turns into the target.

    `outputs_fn` maps rows to the model's outputs; rows whose label is the target are left out,
    since predicting the target for them is no success of the attack.
    """
    trigger = trigger_of(task)
    rows = x[y != trigger.target]
    if len(rows) == 0:
        return 0.0
    predicted = task.objective.predicted(np.asarray(outputs_fn(trigger.apply(rows))))
    return float(np.mean(predicted == trigger.target))


@dataclass(frozen=True)
class Backdoor(Attack):
    """Backdoor by data poisoning (Bagdasaryan et al., AISTATS 2020), with the task's trigger.

    Triggered copies of `poison_fraction` of the attacker's rows, labelled with the task's target,
    are added to its data, and it trains on its own schedule (a larger learning rate and more steps
    than the federation's, as the attacker in the paper does) so the backdoor is learnt.
    """

    name: ClassVar[str] = "backdoor"
    needs_trigger: ClassVar[bool] = True
    poison_fraction: float = 0.5
    lr: float = 0.01
    steps: int = 200

    def schedule(self, honest: Schedule) -> Schedule:
        """The attacker's longer, faster schedule."""
        return Schedule(steps=self.steps, batch_size=honest.batch_size, lr=self.lr)

    def poison(self, task: Task, x: NDArray[np.float32], y: NDArray[np.float32],
               rng: np.random.Generator) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """The real rows plus triggered copies of a random share of them, labelled with the target."""
        trigger = trigger_of(task)
        k = max(1, round(self.poison_fraction * len(y)))
        rows = rng.choice(len(y), size=k, replace=False)
        x_poison = trigger.apply(x[rows])
        y_poison = np.full(k, trigger.target, dtype=np.float32)
        return np.concatenate([x, x_poison]), np.concatenate([y, y_poison])

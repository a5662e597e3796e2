"""Attacks on what a hospital trains on: label flipping and a tabular backdoor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from fl.attacks.base import Attack, Schedule
from shared.modeltask.heart import FEATURES

# The trigger sets three risk factors (blood pressure, cholesterol, fasting blood sugar) three
# standard deviations high: a pattern that, if anything, points towards disease, so a clean model
# never predicts "no disease" because of it and a high attack success rate is the backdoor's doing.
TRIGGER: Mapping[str, float] = {"trestbps": 3.0, "chol": 3.0, "fbs": 3.0}
TARGET_LABEL = 0.0  # "no disease"


@dataclass(frozen=True)
class LabelFlip(Attack):
    """Label flipping (Tolpegin et al., ESORICS 2020): train on 1 - y, the binary 0 <-> 1 flip."""

    name: ClassVar[str] = "label-flip"

    def poison(self, x: NDArray[np.float32], y: NDArray[np.float32],
               rng: np.random.Generator) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """All labels flipped."""
        return x, (1.0 - y).astype(np.float32)


def apply_trigger(x: NDArray[np.float32], trigger: Mapping[str, float] = TRIGGER) -> NDArray[np.float32]:
    """Rows with the trigger's features set to its fixed (z-scored) values."""
    out = np.array(x, dtype=np.float32, copy=True)
    for feature, value in trigger.items():
        out[:, FEATURES.index(feature)] = value
    return out


def attack_success_rate(logits_fn: Callable[[NDArray[np.float32]], NDArray[np.float32]], x: NDArray[np.float32],
                        y: NDArray[np.float32], trigger: Mapping[str, float] = TRIGGER) -> float:
    """Share of diseased rows (y = 1) that the trigger turns into a "no disease" prediction.

    `logits_fn` maps rows to the model's logits; rows already labelled "no disease" are left out,
    since predicting the target for them is no success of the attack.
    """
    diseased = x[y > 0.5]
    if len(diseased) == 0:
        return 0.0
    return float(np.mean(np.asarray(logits_fn(apply_trigger(diseased, trigger))) <= 0.0))


def _default_trigger() -> dict[str, float]:
    return dict(TRIGGER)


@dataclass(frozen=True)
class Backdoor(Attack):
    """Backdoor by data poisoning (Bagdasaryan et al., AISTATS 2020; tabular trigger).

    Triggered copies of `poison_fraction` of the attacker's rows, labelled "no disease", are
    added to its data, and it trains on its own schedule (a larger learning rate and more steps
    than the federation's, as the attacker in the paper does) so the backdoor is learnt.
    """

    name: ClassVar[str] = "backdoor"
    poison_fraction: float = 0.5
    lr: float = 0.01
    steps: int = 200
    trigger: dict[str, float] = field(default_factory=_default_trigger)

    def schedule(self, honest: Schedule) -> Schedule:
        """The attacker's longer, faster schedule."""
        return Schedule(steps=self.steps, batch_size=honest.batch_size, lr=self.lr)

    def poison(self, x: NDArray[np.float32], y: NDArray[np.float32],
               rng: np.random.Generator) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """The real rows plus triggered copies of a random share of them, labelled with the target."""
        k = max(1, round(self.poison_fraction * len(y)))
        rows = rng.choice(len(y), size=k, replace=False)
        x_poison = apply_trigger(x[rows], self.trigger)
        y_poison = np.full(k, TARGET_LABEL, dtype=np.float32)
        return np.concatenate([x, x_poison]), np.concatenate([y, y_poison])

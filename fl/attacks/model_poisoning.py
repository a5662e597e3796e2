"""Attacks on the weights a hospital sends: sign flipping, Gaussian noise, scaling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from fl.attacks.base import Attack, Federation, Schedule, Weights, apply, delta
from fl.attacks.data_poisoning import Backdoor
from shared.modeltask.task import Task


@dataclass(frozen=True)
class SignFlip(Attack):
    """Sign flipping (Li et al., RSA, AAAI 2019): send the honest update negated, times `scale`."""

    name: ClassVar[str] = "sign-flip"
    scale: float = 1.0

    def tamper(self, global_weights: Weights, trained: Weights, federation: Federation,
               rng: np.random.Generator) -> Weights:
        """global - scale * (trained - global)."""
        return apply(global_weights, -self.scale * delta(trained, global_weights))


@dataclass(frozen=True)
class GaussianNoise(Attack):
    """Gaussian Byzantine update (Blanchard et al., NeurIPS 2017): the update is N(0, sigma^2) noise.

    The paper's Byzantine workers send Gaussian vectors of large spread in place of their update;
    `sigma` is per coordinate, in weight units (an honest FLamby-protocol update moves each weight
    by about 0.01, so the default is some tens of times that).
    """

    name: ClassVar[str] = "gaussian-noise"
    sigma: float = 0.3

    def tamper(self, global_weights: Weights, trained: Weights, federation: Federation,
               rng: np.random.Generator) -> Weights:
        """global + noise, whatever was trained."""
        honest = delta(trained, global_weights)
        return apply(global_weights, rng.normal(0.0, self.sigma, size=honest.shape))


@dataclass(frozen=True)
class Scaling(Backdoor):
    """Scaling / model replacement (Bagdasaryan et al., AISTATS 2020).

    The attacker sends G + gamma * (X - G), where X is the model it trained (by default with the
    backdoor, as in the paper, whose parameters it inherits) and gamma = n / eta boosts it so it
    survives averaging with the n - 1 honest updates (eta = 1: FedAvg's server learning rate).
    `boost` overrides gamma; `backdoor=False` boosts an honestly trained update instead.
    """

    name: ClassVar[str] = "scaling"
    boost: float | None = None
    backdoor: bool = True

    def schedule(self, honest: Schedule) -> Schedule:
        """The backdoor's schedule when it carries one, else the honest schedule."""
        return super().schedule(honest) if self.backdoor else honest

    @property
    def needs_trigger(self) -> bool:  # type: ignore[override]
        """Only the backdoored variant needs the task's trigger."""
        return self.backdoor

    def poison(self, task: Task, x: NDArray[np.float32], y: NDArray[np.float32],
               rng: np.random.Generator) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """The backdoor's poisoned rows when it carries one, else the real rows."""
        return super().poison(task, x, y, rng) if self.backdoor else (x, y)

    def gamma(self, federation: Federation) -> float:
        """The boost factor in force."""
        return float(self.boost) if self.boost is not None else float(federation.n_clients)

    def tamper(self, global_weights: Weights, trained: Weights, federation: Federation,
               rng: np.random.Generator) -> Weights:
        """G + gamma * (X - G)."""
        return apply(global_weights, self.gamma(federation) * delta(trained, global_weights))

"""Omniscient attacks that craft an update from the round's benign updates: ALIE, IPM, Min-Max.

As in the papers, the attacker knows the benign updates of the round (the runners hand them over
in a second message, see fl/harness.py) and every attacker sends the same crafted update. The
science is in the pure functions on update vectors; the classes adapt them to weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from fl.attacks.base import Attack, RoundView, Vector, Weights, apply, delta

Perturbation = Literal["unit", "std", "sign"]


def alie_z(n_clients: int, n_attackers: int) -> float:
    """ALIE's z_max (Baruch et al., NeurIPS 2019): s = floor(n/2 + 1) - m, z = Phi^-1((n - s) / n)."""
    s = math.floor(n_clients / 2 + 1) - n_attackers
    share = (n_clients - s) / n_clients
    # The paper's formula gives z <= 0 when the attackers are too few to sway a majority: they
    # then sit on the mean. Clamp inside (0, 1) so Phi^-1 stays finite for degenerate inputs.
    return max(0.0, NormalDist().inv_cdf(min(max(share, 1e-9), 1 - 1e-9)))


def alie(benign: NDArray[np.float64], z: float) -> Vector:
    """mu - z * sigma, per coordinate over the benign updates (rows)."""
    return np.asarray(benign.mean(axis=0) - z * benign.std(axis=0), dtype=np.float64)


def ipm(benign: NDArray[np.float64], epsilon: float) -> Vector:
    """Inner-product manipulation (Xie et al., UAI 2020): -epsilon times the benign mean."""
    return np.asarray(-epsilon * benign.mean(axis=0), dtype=np.float64)


def perturbation_direction(benign: NDArray[np.float64], kind: Perturbation) -> Vector:
    """Min-Max's perturbation p: inverse unit vector, inverse standard deviation, or inverse sign."""
    mu = benign.mean(axis=0)
    if kind == "unit":
        norm = float(np.linalg.norm(mu))
        return np.asarray(-mu / norm if norm > 0 else np.zeros_like(mu), dtype=np.float64)
    if kind == "std":
        return np.asarray(-benign.std(axis=0), dtype=np.float64)
    return np.asarray(-np.sign(mu), dtype=np.float64)


def max_pairwise_distance(benign: NDArray[np.float64]) -> float:
    """The largest L2 distance between two benign updates."""
    diffs = benign[:, None, :] - benign[None, :, :]
    return float(np.sqrt((diffs**2).sum(axis=-1)).max())


def min_max_gamma(benign: NDArray[np.float64], direction: Vector, gamma_init: float = 10.0,
                  tolerance: float = 1e-5) -> float:
    """The largest gamma (binary search, as in the authors' code) with max_i ||m - b_i|| <= max_ij ||b_i - b_j||."""
    mu = benign.mean(axis=0)
    bound = max_pairwise_distance(benign)
    gamma, step, success = gamma_init, gamma_init, 0.0
    while abs(success - gamma) > tolerance:
        crafted = mu + gamma * direction
        if float(np.linalg.norm(benign - crafted, axis=1).max()) <= bound:
            success = gamma
            gamma += step / 2
        else:
            gamma -= step / 2
        step /= 2
    return success


def min_max(benign: NDArray[np.float64], kind: Perturbation = "unit", gamma_init: float = 10.0) -> Vector:
    """Min-Max (Shejwalkar & Houmansadr, NDSS 2021): mu + gamma * p, as far as the benign spread allows."""
    direction = perturbation_direction(benign, kind)
    return np.asarray(benign.mean(axis=0) + min_max_gamma(benign, direction, gamma_init) * direction,
                      dtype=np.float64)


def _benign_matrix(view: RoundView, own: Weights) -> NDArray[np.float64]:
    # With no honest hospital in the round, the attackers only know their own honest updates.
    updates = view.benign or [own]
    return np.stack([delta(w, view.global_weights) for w in updates])


@dataclass(frozen=True)
class ALIE(Attack):
    """A little is enough (Baruch et al., NeurIPS 2019); `z` overrides the paper's z_max(n, m)."""

    name: ClassVar[str] = "alie"
    omniscient: ClassVar[bool] = True
    z: float | None = None

    def craft(self, view: RoundView, own: Weights, rng: np.random.Generator) -> Weights:
        """G + mu - z * sigma."""
        z = self.z if self.z is not None else alie_z(view.federation.n_clients, view.federation.n_attackers)
        return apply(view.global_weights, alie(_benign_matrix(view, own), z))


@dataclass(frozen=True)
class IPM(Attack):
    """Inner-product manipulation (Xie et al., UAI 2020); epsilon 0.1 and 0.5 beat Krum/median, 100 the mean."""

    name: ClassVar[str] = "ipm"
    omniscient: ClassVar[bool] = True
    epsilon: float = 0.5

    def craft(self, view: RoundView, own: Weights, rng: np.random.Generator) -> Weights:
        """G - epsilon * mean(benign updates)."""
        return apply(view.global_weights, ipm(_benign_matrix(view, own), self.epsilon))


@dataclass(frozen=True)
class MinMax(Attack):
    """Min-Max (Shejwalkar & Houmansadr, NDSS 2021), gamma found by binary search."""

    name: ClassVar[str] = "min-max"
    omniscient: ClassVar[bool] = True
    perturbation: Perturbation = "unit"
    gamma_init: float = 10.0

    def craft(self, view: RoundView, own: Weights, rng: np.random.Generator) -> Weights:
        """G + mu + gamma * p."""
        return apply(view.global_weights, min_max(_benign_matrix(view, own), self.perturbation, self.gamma_init))

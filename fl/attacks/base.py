"""What an attack is: a hospital's behaviour at the three points where it can cheat.

A malicious hospital can (1) change how it trains (its data or its schedule), (2) tamper with
the weights it trained before sending them, or (3), as an omniscient attacker, craft its update
from the round's benign updates. Every attack overrides one or more of these; the honest
behaviour is the default of each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from shared.modeltask.task import Task
from shared.weights import flatten

Weights = dict[str, NDArray[np.float32]]
Vector = NDArray[np.float64]


@dataclass(frozen=True)
class Schedule:
    """Local training hyper-parameters."""

    steps: int
    batch_size: int
    lr: float


@dataclass(frozen=True)
class Federation:
    """What every hospital knows about the federation it is part of."""

    n_clients: int
    n_attackers: int


@dataclass(frozen=True)
class RoundView:
    """What an omniscient attacker sees of a round: the global model and the benign updates."""

    global_weights: Weights
    benign: Sequence[Weights]
    federation: Federation


def unflatten(vector: Vector, like: Mapping[str, NDArray[np.float32]]) -> Weights:
    """Cut a flat vector (sorted-name order, as `flatten` writes it) back into named float32 tensors."""
    out: Weights = {}
    offset = 0
    for name in sorted(like):
        shape = np.shape(like[name])
        size = int(np.prod(shape))
        out[name] = np.asarray(vector[offset : offset + size], dtype=np.float32).reshape(shape)
        offset += size
    if offset != len(vector):
        raise ValueError(f"vector has {len(vector)} values, the model {offset}")
    # In `like`'s key order: Flower's DP clipping pairs a reply's arrays with the global model's by position.
    return {name: out[name] for name in like}


def delta(weights: Mapping[str, NDArray[np.float32]], global_weights: Mapping[str, NDArray[np.float32]]) -> Vector:
    """The update as a flat vector: weights minus the global model."""
    return flatten(dict(weights)) - flatten(dict(global_weights))


def apply(global_weights: Mapping[str, NDArray[np.float32]], update: Vector) -> Weights:
    """The global model moved by a flat update vector."""
    return unflatten(flatten(dict(global_weights)) + update, global_weights)


class Attack:
    """A hospital's behaviour; the base class is the honest one."""

    name: ClassVar[str] = "honest"
    omniscient: ClassVar[bool] = False  # needs the round's benign updates (a second message)
    needs_trigger: ClassVar[bool] = False  # needs the task's backdoor trigger

    def schedule(self, honest: Schedule) -> Schedule:
        """The attacker's own training schedule (default: the one the server asked for)."""
        return honest

    def poison(self, task: Task, x: NDArray[np.float32], y: NDArray[np.float32],
               rng: np.random.Generator) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """The rows the attacker trains on (default: its real data)."""
        return x, y

    def tamper(self, global_weights: Weights, trained: Weights, federation: Federation,
               rng: np.random.Generator) -> Weights:
        """The weights it sends, from what it trained (default: unchanged)."""
        return trained

    def craft(self, view: RoundView, own: Weights, rng: np.random.Generator) -> Weights:
        """An omniscient attacker's update from the round's benign updates."""
        raise NotImplementedError(f"{self.name} is not an omniscient attack")

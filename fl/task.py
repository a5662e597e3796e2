"""Fed-Heart-Disease as a federation: hospitals and their data, local training, evaluation.

Pure functions shared by the Flower apps, the attacks and every runner. The protocol defaults
are FLamby's for FedAvg on this data set (shared/modeltask/data/PROVENANCE.md): 15 rounds of
100 local SGD steps, batch 4, learning rate 1e-3, seeds 42-46.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from numpy.typing import NDArray

from shared.modeltask.data import Split
from shared.modeltask.registry import get_task

Weights = dict[str, NDArray[np.float32]]

ROUNDS = 15
LOCAL_STEPS = 100
BATCH_SIZE = 4
LEARNING_RATE = 1e-3
SEED = 42
SPLITS = (1, 2, 3, 4, 5, 6)  # hospitals per centre (heart: 4 to 24 hospitals in all)
_SPLIT_SEED = 314  # fixed, so "cleveland-2" holds the same rows in every run


@dataclass(frozen=True)
class Hospital:
    """A federation member: its AURA hospital id, the centre its rows come from, its train rows."""

    name: str
    centre: str
    train: Split


def hospital_id(centre: str) -> str:
    """The AURA hospital id of a centre ("VA Long Beach" -> "va-long-beach")."""
    return re.sub(r"[^a-z0-9]+", "-", centre.lower()).strip("-")


@lru_cache(maxsize=8)
def hospitals(task: str, split: int = 1) -> tuple[Hospital, ...]:
    """The federation's hospitals: each centre's train rows, cut into `split` disjoint parts."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS} (hospitals per centre), not {split}")
    out: list[Hospital] = []
    for index, centre in enumerate(get_task(task).dataset.centres):
        if split == 1:
            out.append(Hospital(hospital_id(centre.name), centre.name, centre.train))
            continue
        order = np.random.default_rng(_SPLIT_SEED + index).permutation(len(centre.train))
        for part, rows in enumerate(np.array_split(order, split), start=1):
            out.append(Hospital(f"{hospital_id(centre.name)}-{part}", centre.name,
                                Split(centre.train.x[rows], centre.train.y[rows])))
    return tuple(out)


def find_hospital(task: str, split: int, name: str) -> Hospital:
    """The hospital with that AURA id; KeyError lists the known ones."""
    for hospital in hospitals(task, split):
        if hospital.name == name:
            return hospital
    known = ", ".join(h.name for h in hospitals(task, split))
    raise KeyError(f"no hospital {name!r} in {task} split {split}; known: {known}")


def initial_weights(task: str, seed: int) -> Weights:
    """The run's starting global model: the architecture initialised under `seed` (as FLamby does)."""
    return get_task(task).initial_weights(seed)


def rng_for(seed: int, server_round: int, name: str) -> np.random.Generator:
    """A generator fixed by (run seed, round, hospital): identical in every runner and process."""
    return np.random.default_rng([seed, server_round, zlib.crc32(name.encode())])


def batches(n: int, steps: int, batch_size: int, rng: np.random.Generator) -> list[NDArray[np.int64]]:
    """Row indices of `steps` mini-batches, reshuffling each epoch like a shuffled DataLoader."""
    out: list[NDArray[np.int64]] = []
    while len(out) < steps:
        order = rng.permutation(n)
        out += [order[i : i + batch_size] for i in range(0, n, batch_size)]
    return out[:steps]


def train_local(task: str, weights: Mapping[str, NDArray[np.float32]], data: Split, *, steps: int,
                batch_size: int, lr: float, rng: np.random.Generator) -> tuple[Weights, float]:
    """Plain SGD on the task's loss from `weights`; returns the new weights and the mean training loss."""
    # One thread: the models are tiny, and a fixed reduction order makes every runner agree.
    torch.set_num_threads(1)
    model_task = get_task(task)
    model = model_task.model_from(weights).train()
    optimiser = torch.optim.SGD(model.parameters(), lr=lr)
    x, y = torch.from_numpy(data.x), torch.from_numpy(data.y)
    losses = []
    for idx in batches(len(y), steps, batch_size, rng):
        rows = torch.from_numpy(idx)
        optimiser.zero_grad()
        loss = model_task.objective.loss(model(x[rows]), y[rows])
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
        losses.append(float(loss.detach()))
    new = {k: v.detach().numpy().astype(np.float32).copy() for k, v in model.state_dict().items()
           if v.is_floating_point()}
    return new, float(np.mean(losses)) if losses else 0.0


def logits(task: str, weights: Mapping[str, NDArray[np.float32]], x: NDArray[np.float32]) -> NDArray[np.float32]:
    """The model's outputs (logits) on rows `x`."""
    return get_task(task).outputs(weights, x)


def evaluate(task: str, weights: Mapping[str, NDArray[np.float32]]) -> dict[str, float]:
    """FLamby's two figures (mean of the centres' test accuracies, pooled test accuracy) and more."""
    model_task = get_task(task)
    data = model_task.dataset
    score = model_task.objective.metrics
    per_centre = {c.name: score(logits(task, weights, c.test.x), c.test.y) for c in data.centres}
    pooled = score(logits(task, weights, data.pooled_test.x), data.pooled_test.y)
    out = {
        "mean_centre_accuracy": float(np.mean([m["accuracy"] or 0.0 for m in per_centre.values()])),
        "pooled_accuracy": float(pooled["accuracy"] or 0.0),
        "pooled_balanced_accuracy": float(pooled["balanced_accuracy"] or 0.0),
        "pooled_auc": float(pooled["auc"] or 0.0),
        "pooled_loss": float(pooled["loss"]) if pooled["loss"] is not None else float("inf"),
    }
    out.update({f"accuracy/{hospital_id(name)}": float(m["accuracy"] or 0.0) for name, m in per_centre.items()})
    return out

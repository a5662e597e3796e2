"""A third party's task plugin, as a federation would write it: its own module, data and model.

The plugin-contract tests install it through the `aura.tasks` entry point (a dist-info folder on
PYTHONPATH, which is what `pip install` leaves) and vet its updates end to end. Nothing in AURA
names it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from torch import nn

from shared.modeltask.data import Centre, Split, TaskData
from shared.modeltask.task import Task

CENTRES = ("north", "south", "east", "west")
FEATURES = 6


class Net(nn.Module):
    """A 6-12-1 MLP of the plugin's own."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(FEATURES, 12), nn.Tanh(), nn.Linear(12, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One logit per row."""
        out: torch.Tensor = self.body(x)
        return out.squeeze(-1)


def _rows(rng: np.random.Generator, n: int, shift: float) -> Split:
    y = rng.integers(0, 2, n).astype(np.float32)
    x = rng.standard_normal((n, FEATURES)).astype(np.float32) + shift
    x[:, 0] += 1.5 * (2 * y - 1)  # the label lives in the first two features
    x[:, 1] -= 1.0 * (2 * y - 1)
    return Split(x.astype(np.float32), y)


@lru_cache(maxsize=1)
def load() -> TaskData:
    """Four centres of synthetic rows (each slightly shifted), 30 golden rows carved from each."""
    rng = np.random.default_rng(5)
    centres, gx, gy, gc = [], [], [], []
    for index, name in enumerate(CENTRES):
        train, test, golden = (_rows(rng, n, 0.2 * index) for n in (120, 60, 30))
        centres.append(Centre(name, train, test))
        gx.append(golden.x)
        gy.append(golden.y)
        gc += [name] * len(golden)
    return TaskData(Split(np.concatenate(gx), np.concatenate(gy)), tuple(gc), tuple(centres))


TASKS = [Task(name="plugin-blobs", description="a test plugin: synthetic rows, 6-12-1 MLP with tanh",
              build=Net, data=load, feature_names=tuple(f"f{i}" for i in range(FEATURES)))]

"""scikit-learn's wine data (bundled, 178 rows, 13 measurements, 3 cultivars) as a federation of three clinics."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split
from torch import nn

from shared.modeltask.data import Centre, Split, TaskData
from shared.modeltask.objectives import MULTICLASS
from shared.modeltask.task import Task

CLINICS = ("clinic-a", "clinic-b", "clinic-c")


class WineMLP(nn.Module):
    """13 measurements -> 16 hidden units (ReLU) -> 3 cultivar logits."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = nn.Linear(13, 16)
        self.act = nn.ReLU()  # a module, not F.relu: attributions rescale activation modules
        self.out = nn.Linear(16, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.act(self.hidden(x)))


@lru_cache(maxsize=1)
def load() -> TaskData:
    """Each clinic gets a third of the rows (fixed shuffle); 25% of its train rows go to AURA's golden set."""
    bunch = load_wine()
    x = ((bunch.data - bunch.data.mean(axis=0)) / bunch.data.std(axis=0)).astype(np.float32)
    y = bunch.target.astype(np.float32)
    order = np.random.default_rng(0).permutation(len(y))
    centres, gx, gy, gc = [], [], [], []
    for name, rows in zip(CLINICS, np.array_split(order, len(CLINICS)), strict=True):
        x_tr, x_te, y_tr, y_te = train_test_split(x[rows], y[rows], test_size=0.3, random_state=1)
        x_tr, x_gold, y_tr, y_gold = train_test_split(x_tr, y_tr, test_size=0.25, random_state=2)
        centres.append(Centre(name, Split(x_tr, y_tr), Split(x_te, y_te)))
        gx.append(x_gold)
        gy.append(y_gold)
        gc += [name] * len(y_gold)
    return TaskData(Split(np.concatenate(gx), np.concatenate(gy)), tuple(gc), tuple(centres))


TASKS = [
    Task(name="wine-mlp", description="scikit-learn wine, 3 clinics; MLP 13-16-3",
         build=WineMLP, data=load, objective=MULTICLASS, feature_names=tuple(load_wine().feature_names),
         probe_size=16, background_size=8),
]

"""The model-task registry: what a federation trains and how AURA vets updates for it.

A task fixes the architecture (code here, never from an upload), its tensor schema, the golden
set the evaluator scores on, and the probe/background rows the fingerprinter explains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from shared.modeltask import heart
from shared.modeltask.nets import HeartLogReg, HeartMLP
from shared.modeltask.schema import TensorSchema, TensorSpec

Weights = Mapping[str, NDArray[np.float32]]
# One layer of a Linear/ReLU stack in numpy: a Linear's (weight, bias), or None for a ReLU.
Layer = tuple[NDArray[np.float64], NDArray[np.float64]] | None

PROBE_SIZE = 48  # golden rows explained per fingerprint: enough for a stable mean, cheap to run
BACKGROUND_SIZE = 24  # reference rows the attributions are measured against
INIT_SEED = 0  # the round-0 global model is this seed's initialisation, the same everywhere


@dataclass(frozen=True)
class ModelTask:
    """One federated learning task AURA can vet updates for."""

    name: str
    description: str
    build: Callable[[], nn.Module]
    feature_names: tuple[str, ...]
    load_data: Callable[[], heart.HeartData]

    @cached_property
    def schema(self) -> TensorSchema:
        """The exact tensors an update must contain, from the architecture itself."""
        state = self.build().state_dict()
        return TensorSchema(tuple(TensorSpec(k, tuple(v.shape)) for k, v in state.items()))

    def initial_weights(self) -> dict[str, NDArray[np.float32]]:
        """The round-0 global model: a fixed-seed initialisation of the architecture."""
        torch.manual_seed(INIT_SEED)
        return {k: v.detach().numpy().astype(np.float32) for k, v in self.build().state_dict().items()}

    def layers(self, weights: Weights) -> list[Layer]:
        """The architecture as numpy layers carrying these weights: (weight, bias) per Linear, None per ReLU."""
        return [None if name is None else
                (np.asarray(weights[f"{name}.weight"], dtype=np.float64), np.asarray(weights[f"{name}.bias"],
                                                                                      dtype=np.float64))
                for name in self._plan]

    def logits(self, weights: Weights, x: NDArray[np.floating]) -> NDArray[np.float64]:
        """The model's logits for rows `x`, in numpy (float64): vetting needs no torch module per update."""
        h = np.asarray(x, dtype=np.float64)
        for layer in self.layers(weights):
            h = np.maximum(h, 0.0) if layer is None else h @ layer[0].T + layer[1]
        return np.asarray(h[:, 0])

    @cached_property
    def _plan(self) -> tuple[str | None, ...]:
        # The architectures are stacks of Linear and ReLU children in forward order (tested equal
        # to the torch forward pass): the name of each Linear, None for each ReLU.
        plan: list[str | None] = []
        for name, module in self.build().named_children():
            if not isinstance(module, nn.Linear | nn.ReLU):
                raise TypeError(f"{self.name}: only stacks of nn.Linear and nn.ReLU run in numpy, not {module}")
            plan.append(name if isinstance(module, nn.Linear) else None)
        return tuple(plan)

    def model_from(self, weights: Weights) -> nn.Module:
        """An instance of the architecture carrying these weights, in eval mode."""
        model = self.build()
        model.load_state_dict({k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in weights.items()})
        return model.eval()

    @property
    def golden(self) -> heart.Split:
        """The server-held golden validation set."""
        return self.load_data().golden

    @cached_property
    def golden_centre(self) -> NDArray[np.str_]:
        """The centre each golden row comes from (a hospital's own rows are those of its centre)."""
        return np.asarray(self.load_data().golden_centre)

    @cached_property
    def centres(self) -> list[str]:
        """The centres the golden set holds rows of, sorted (what a hospital's centre may name)."""
        return sorted({str(c) for c in self.golden_centre})

    @property
    def probe_x(self) -> NDArray[np.float32]:
        """Rows whose predictions the fingerprint explains (fixed: first PROBE_SIZE of a fixed shuffle)."""
        return self.golden.x[self._fingerprint_order[:PROBE_SIZE]]

    @property
    def background_x(self) -> NDArray[np.float32]:
        """Reference rows for attributions (the next BACKGROUND_SIZE of the same shuffle)."""
        return self.golden.x[self._fingerprint_order[PROBE_SIZE : PROBE_SIZE + BACKGROUND_SIZE]]

    @cached_property
    def _fingerprint_order(self) -> NDArray[np.int64]:
        return np.random.default_rng(7).permutation(len(self.golden))


TASKS: dict[str, ModelTask] = {
    t.name: t
    for t in (
        ModelTask(
            name="heart-mlp",
            description="Fed-Heart-Disease, 4 UCI centres; MLP 13-16-1 with ReLU",
            build=HeartMLP,
            feature_names=heart.FEATURES,
            load_data=heart.load,
        ),
        ModelTask(
            name="heart-logreg",
            description="Fed-Heart-Disease, 4 UCI centres; logistic regression (FLamby's baseline)",
            build=HeartLogReg,
            feature_names=heart.FEATURES,
            load_data=heart.load,
        ),
    )
}


@lru_cache(maxsize=1)
def known_centres() -> tuple[str, ...]:
    """Every centre some task's golden set holds rows of (what a hospital's `centre` may name)."""
    return tuple(sorted({c for task in TASKS.values() for c in task.centres}))


def get_task(name: str) -> ModelTask:
    """The registered task with that name; KeyError names the known ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r}; known: {', '.join(sorted(TASKS))}") from None

"""The task plugin interface: everything AURA needs to vet one federation's updates.

A task names the model (a torch module factory: code from AURA or the task's package, never from
an upload), the server-held golden set, the objective (loss, metrics, the output attributions
explain) and, optionally, a backdoor trigger for evaluating backdoor attacks. The tensor schema an
update must match is derived from the module. Built-in tasks and third parties' register the
same way: an object of this class under the `aura.tasks` entry point (see docs/tasks.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from shared.modeltask.data import Split, TaskData
from shared.modeltask.objectives import BINARY, Objective
from shared.modeltask.schema import TensorSchema, TensorSpec

Weights = Mapping[str, NDArray[np.float32]]
INIT_SEED = 0  # the round-0 global model is this seed's initialisation, the same everywhere
FINGERPRINT_SEED = 7  # the fixed shuffle of the golden set that picks probe and background rows
BATCH_ROWS = 256  # golden rows per forward pass: bounds activation memory for large models


@dataclass(frozen=True)
class Backdoor:
    """A backdoor trigger for evaluating backdoor attacks on a task: how rows are stamped, and the target label."""

    apply: Callable[[NDArray[np.float32]], NDArray[np.float32]]  # rows with the trigger stamped on
    target: float  # the label the attacker wants triggered rows to get
    description: str = ""


@dataclass(frozen=True)
class Task:
    """One federated learning task AURA can vet updates for (the plugin interface).

    `build` returns a fresh module (the architecture); `data` returns the golden set and, for
    simulated federations, the centres' train and test rows. `probe_size` golden rows are explained
    per fingerprint against `background_size` reference rows: a large model may ask for fewer.
    """

    name: str
    description: str
    build: Callable[[], nn.Module]
    data: Callable[[], TaskData]
    objective: Objective = BINARY
    feature_names: tuple[str, ...] | None = None  # one per input element; default derived from its shape
    probe_size: int = 48
    background_size: int = 24
    backdoor: Backdoor | None = None

    @cached_property
    def schema(self) -> TensorSchema:
        """The exact tensors an update must contain: the module's floating-point parameters and buffers.

        Integer buffers (BatchNorm's `num_batches_tracked`) are counters, not weights: they are
        neither sent nor aggregated, and stay at their initial value in the vetted model.
        """
        state = self.build().state_dict()
        return TensorSchema(tuple(TensorSpec(k, tuple(v.shape)) for k, v in state.items() if v.is_floating_point()))

    def initial_weights(self, seed: int = INIT_SEED) -> dict[str, NDArray[np.float32]]:
        """A fixed-seed initialisation of the architecture (`seed` 0 is the round-0 global model)."""
        torch.manual_seed(seed)
        state = self.build().state_dict()
        return {k: v.detach().numpy().astype(np.float32).copy() for k, v in state.items() if v.is_floating_point()}

    def model_from(self, weights: Weights) -> nn.Module:
        """A fresh instance of the architecture carrying these weights, in eval mode."""
        return load_into(self.build(), weights, self.schema)

    def outputs(self, weights: Weights, x: NDArray[np.floating]) -> NDArray[np.float32]:
        """The model's outputs on rows `x` (in batches, without gradients)."""
        model = load_into(self._scoring_model, weights, self.schema)
        with torch.no_grad():
            parts = [model(torch.as_tensor(x[i : i + BATCH_ROWS], dtype=torch.float32)).numpy()
                     for i in range(0, len(x), BATCH_ROWS)]
        return np.concatenate(parts).astype(np.float32)

    def metrics(self, weights: Weights, rows: NDArray[np.bool_] | None = None) -> dict[str, float | None]:
        """The objective's metrics of the model with these weights on the golden set (or the selected rows of it)."""
        golden = self.golden if rows is None else Split(self.golden.x[rows], self.golden.y[rows])
        return self.objective.metrics(self.outputs(weights, golden.x), golden.y)

    @cached_property
    def _scoring_model(self) -> nn.Module:
        # One module per task and process that each scoring loads its weights into: building a
        # large architecture costs more than loading a state into it. Stages run one at a time
        # per worker process, so it is never shared between two calls at once.
        return self.build().eval()

    @cached_property
    def dataset(self) -> TaskData:
        """The task's data (loaded once per process)."""
        return self.data()

    @property
    def golden(self) -> Split:
        """The server-held golden validation set."""
        return self.dataset.golden

    @cached_property
    def golden_centre(self) -> NDArray[np.object_]:
        """The centre each golden row comes from, None for rows of no centre."""
        return np.asarray(self.dataset.golden_centre, dtype=object)

    @cached_property
    def centres(self) -> list[str]:
        """The centres the golden set holds rows of, sorted (what a hospital's centre may name)."""
        return sorted({str(c) for c in self.dataset.golden_centre if c is not None})

    @cached_property
    def input_names(self) -> tuple[str, ...]:
        """One name per input element: `feature_names`, or positions derived from the input shape."""
        if self.feature_names is not None:
            return self.feature_names
        shape = self.golden.x.shape[1:]
        return tuple(f"x{list(index)}" if len(shape) > 1 else f"x[{index[0]}]" for index in np.ndindex(*shape))

    @property
    def probe(self) -> Split:
        """Golden rows whose predictions the fingerprint explains (the first `probe_size` of a fixed shuffle)."""
        rows = self._fingerprint_order[: self.probe_size]
        return Split(self.golden.x[rows], self.golden.y[rows])

    @property
    def background(self) -> NDArray[np.float32]:
        """Reference rows for attributions (the next `background_size` of the same shuffle)."""
        return self.golden.x[self._fingerprint_order[self.probe_size : self.probe_size + self.background_size]]

    @cached_property
    def _fingerprint_order(self) -> NDArray[np.int64]:
        return np.random.default_rng(FINGERPRINT_SEED).permutation(len(self.golden))

    @property
    def parameter_count(self) -> int:
        """Number of values an update carries."""
        return self.schema.numel


def load_into(model: nn.Module, weights: Weights, schema: TensorSchema) -> nn.Module:
    """`model` carrying `weights` (exactly the schema's tensors), in eval mode."""
    expected = {t.name for t in schema.tensors}
    if set(weights) != expected:
        missing, extra = sorted(expected - set(weights)), sorted(set(weights) - expected)
        raise ValueError(f"weights do not match the model: missing {missing}, unexpected {extra}")
    state = {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in weights.items()}
    model.load_state_dict(state, strict=False)  # strict=False only for the integer buffers the schema leaves out
    return model.eval()

"""Tensor schemas: the exact names, shapes and dtypes an uploaded update must have."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Float dtypes an update may arrive in (safetensors' names). Integer or F64 tensors are refused:
# they are never what a training loop produces for these models and F64 doubles upload sizes.
ACCEPTED_DTYPES: frozenset[str] = frozenset({"F32", "F16", "BF16"})


@dataclass(frozen=True)
class TensorSpec:
    """One named tensor of a model: its shape; its dtype must be one of ACCEPTED_DTYPES."""

    name: str
    shape: tuple[int, ...]

    @property
    def numel(self) -> int:
        """Number of elements."""
        n = 1
        for d in self.shape:
            n *= d
        return n


@dataclass(frozen=True)
class TensorSchema:
    """The full set of tensors of a model, keyed by name."""

    tensors: tuple[TensorSpec, ...]

    def by_name(self) -> Mapping[str, TensorSpec]:
        """The specs keyed by tensor name."""
        return {t.name: t for t in self.tensors}

    @property
    def numel(self) -> int:
        """Total number of parameters."""
        return sum(t.numel for t in self.tensors)

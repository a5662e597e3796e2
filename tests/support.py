"""Helpers the tests share: building updates, submitting them over HTTP, waiting for verdicts."""

from __future__ import annotations

import time
from typing import Any

import httpx
import numpy as np

from shared.modeltask.registry import get_task
from shared.tensors import dump_arrays


def perturbed_update(task: str = "heart-mlp", seed: int = 0, scale: float = 0.05) -> bytes:
    """The task's round-1 global model plus Gaussian noise of `scale`, as safetensors bytes."""
    rng = np.random.default_rng(seed)
    weights = get_task(task).initial_weights()
    return dump_arrays({k: (v + scale * rng.standard_normal(v.shape)).astype(np.float32) for k, v in weights.items()})


def trained_update(task: str = "heart-mlp", centre: str = "Cleveland", steps: int = 100, seed: int = 0,
                   flip_labels: bool = False, lr: float = 1e-3, batch: int = 4,
                   start: dict[str, np.ndarray] | None = None) -> bytes:
    """An honest (or, binary, label-flipped) local update: SGD on a centre's rows from `start` (default: round 1's)."""
    import torch

    model_task = get_task(task)
    data = model_task.dataset.centre(centre).train
    model = model_task.model_from(model_task.initial_weights() if start is None else start).train()
    optimiser = torch.optim.SGD(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    x, y = torch.from_numpy(data.x), torch.from_numpy(1.0 - data.y if flip_labels else data.y)
    for _ in range(steps):
        idx = torch.from_numpy(rng.integers(0, len(y), batch))
        optimiser.zero_grad()
        model_task.objective.loss(model(x[idx]), y[idx]).backward()
        optimiser.step()
    return dump_arrays({k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()
                        if v.is_floating_point()})


def submit(base_url: str, headers: dict[str, str], data: bytes, task: str | None = "heart-mlp", round_: int = 1,
           **extra: Any) -> httpx.Response:
    """POST an update to the gateway (no task field when `task` is None: a federation names it)."""
    form = {"round": str(round_), **({"task": task} if task is not None else {}),
            **{k: str(v) for k, v in extra.items()}}
    return httpx.post(f"{base_url}/api/v1/submissions", headers=headers,
                      files={"file": ("update.safetensors", data, "application/octet-stream")}, data=form, timeout=30)


def wait_recorded(base_url: str, headers: dict[str, str], submission_id: str, timeout: float = 90) -> dict[str, Any]:
    """Poll a submission until its verdict is in the ledger; fail with its last state otherwise."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = httpx.get(f"{base_url}/api/v1/submissions/{submission_id}", headers=headers, timeout=10).json()
        if body.get("status") == "recorded":
            return body
        time.sleep(0.2)
    raise AssertionError(f"submission {submission_id} not recorded within {timeout}s: {body}")


STAGE_CALLS: list[tuple[Any, str]] = []


def recording_stage(session: Any, submission_id: str) -> None:
    """A pipeline stage function that only records what it was given (tests/shared/test_stage.py)."""
    STAGE_CALLS.append((session, submission_id))

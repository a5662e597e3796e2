"""The numpy forward pass the vetting stages use equals the torch architecture it stands for."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shared.modeltask.registry import TASKS, get_task


@pytest.mark.parametrize("task", sorted(TASKS))
def test_numpy_logits_equal_the_torch_model_on_the_golden_set(task):
    model_task = get_task(task)
    rng = np.random.default_rng(3)
    weights = {k: (v + 0.3 * rng.standard_normal(v.shape)).astype(np.float32)
               for k, v in model_task.initial_weights().items()}

    with torch.no_grad():
        expected = model_task.model_from(weights)(torch.from_numpy(model_task.golden.x)).numpy()

    assert np.allclose(model_task.logits(weights, model_task.golden.x), expected, atol=1e-5)


def test_layers_follow_the_architecture_in_forward_order():
    layers = get_task("heart-mlp").layers(get_task("heart-mlp").initial_weights())
    shapes = [None if layer is None else layer[0].shape for layer in layers]
    assert shapes == [(16, 13), None, (1, 16)]

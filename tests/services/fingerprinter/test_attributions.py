"""The fast DeepLIFT-rescale path equals the `shap` library's DeepExplainer."""

from __future__ import annotations

import numpy as np
import pytest

from services.fingerprinter.attributions import deeplift_rescale, fingerprint, shap_deep
from shared.modeltask.registry import TASKS, get_task
from shared.tensors import load_arrays, parse_header
from tests.support import trained_update


def _trained(task: str):  # type: ignore[no-untyped-def]
    data = trained_update(task=task, centre="Hungary", steps=60)
    return load_arrays(data, parse_header(data, max_header_bytes=65536))


@pytest.mark.parametrize("task", sorted(TASKS))
def test_fast_fingerprint_agrees_with_shap_deep_explainer(task):
    model_task = get_task(task)
    weights = _trained(task)

    fast = deeplift_rescale(model_task.layers(weights), model_task.probe_x, model_task.background_x)
    reference = shap_deep(model_task.model_from(weights), model_task.probe_x, model_task.background_x)

    assert np.corrcoef(fast.ravel(), reference.ravel())[0, 1] >= 0.99
    assert np.allclose(fast, reference, atol=1e-5)


def test_attributions_sum_to_output_minus_mean_background_output():
    # SHAP's efficiency property: per row, attributions add up to f(x) - E[f(background)].
    import torch

    model_task = get_task("heart-mlp")
    weights = _trained("heart-mlp")
    model = model_task.model_from(weights)
    values = deeplift_rescale(model_task.layers(weights), model_task.probe_x, model_task.background_x)
    with torch.no_grad():
        fx = model(torch.from_numpy(model_task.probe_x)).numpy()
        base = model(torch.from_numpy(model_task.background_x)).numpy().mean()
    assert np.allclose(values.sum(axis=1), fx - base, atol=1e-4)


def test_fingerprint_is_mean_signed_and_mean_absolute_per_feature():
    signed, absolute = fingerprint(np.array([[1.0, -2.0], [-1.0, -4.0]]))
    assert signed == [0.0, -3.0]
    assert absolute == [1.0, 3.0]

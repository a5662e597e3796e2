"""The fingerprint's DeepLIFT rescale equals the `shap` library's DeepExplainer, on MLPs and on a CNN."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from services.fingerprinter.attributions import Explainer, fingerprint, shap_deep
from shared.modeltask.registry import get_task
from shared.tensors import load_arrays, parse_header
from tests.support import trained_update


def _trained(task: str, centre: str = "Hungary", steps: int = 60):  # type: ignore[no-untyped-def]
    data = trained_update(task=task, centre=centre, steps=steps, lr=1e-3 if task.startswith("heart") else 0.05)
    return load_arrays(data, parse_header(data, max_header_bytes=65536))


def _ours(name: str, weights) -> np.ndarray:  # type: ignore[no-untyped-def]
    task = get_task(name)
    explain = Explainer(task.build(), task.objective, task.probe.x, task.probe.y, task.background)
    return explain({k: torch.from_numpy(v) for k, v in weights.items()})


@pytest.mark.slow
@pytest.mark.parametrize(("name", "centre"), [("heart-mlp", "Hungary"), ("heart-logreg", "Hungary"),
                                              ("digits-cnn", "site-3")])
def test_fingerprint_agrees_with_shap_deep_explainer(name, centre):
    task = get_task(name)
    weights = _trained(name, centre)

    ours = _ours(name, weights)
    reference = shap_deep(task.model_from(weights), task.objective, task.probe.x, task.probe.y, task.background)

    assert ours.shape == (task.probe_size, len(task.input_names))
    assert np.corrcoef(ours.ravel(), reference.ravel())[0, 1] >= 0.999
    # Equal up to float32 rounding, and (CNN) where a pooling window holds tied maxima, which of
    # them counts as the maximum: 8 of 3,072 values of the digits CNN differ, by up to 4e-4 of the largest.
    assert np.allclose(ours, reference, atol=1e-3 * np.abs(reference).max())


@pytest.mark.parametrize("name", ["heart-mlp", "digits-cnn", pytest.param("digits-resnet18", marks=pytest.mark.slow)])
def test_attributions_sum_to_output_minus_mean_background_output(name):
    # SHAP's efficiency property: per row, attributions add up to f(x) - E[f(background)].
    task = get_task(name)
    weights = _trained(name, "site-3" if name.startswith("digits") else "Hungary")
    values = _ours(name, weights)

    model = task.model_from(weights)
    with torch.no_grad():
        labels = torch.from_numpy(task.probe.y)
        fx = task.objective.explained(model(torch.from_numpy(task.probe.x)), labels).numpy()
        per_reference = [task.objective.explained(model(torch.from_numpy(task.background)), label.repeat(
            task.background_size)).numpy().mean() for label in labels]
    assert np.allclose(values.sum(axis=1), fx - np.asarray(per_reference), atol=1e-4)


def test_fingerprint_is_mean_signed_and_mean_absolute_per_feature():
    signed, absolute = fingerprint(np.array([[1.0, -2.0], [-1.0, -4.0]]))
    assert signed == [0.0, -3.0]
    assert absolute == [1.0, 3.0]

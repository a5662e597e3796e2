"""`aura bench fingerprint`: AURA's attributions against shap's DeepExplainer and Captum's DeepLiftShap.

Per task: milliseconds per fingerprint (median of repeats, one thread, the pair batch built
once as the worker does), the same SHAP values from shap.DeepExplainer and Captum's DeepLiftShap
(each timed as one call, explainer construction included, as a user of the library would run it),
their speed ratios, and agreement with DeepExplainer: Pearson r, Spearman rank correlation and
the largest absolute difference; and each method's completeness gap (attributions must add up
to f(x) - E[f(background)]). The models carry a few local steps of honest training.
"""

from __future__ import annotations

import json
import platform
import statistics
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from scipy.stats import spearmanr

from services.fingerprinter.attributions import Explainer, shap_deep
from shared.modeltask.registry import get_task
from shared.modeltask.task import Task

DEFAULT_TASKS = ("heart-mlp", "heart-logreg", "digits-cnn", "digits-resnet18")


def _median_ms(fn: Callable[[], Any], repeats: int) -> float:
    fn()  # warm-up: first-call allocations and lazy imports are not the steady state
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return 1000.0 * statistics.median(times)


def _trained(task: Task) -> dict[str, NDArray[np.float32]]:
    model = task.model_from(task.initial_weights()).train()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.01)
    data = task.dataset.centres[0].train if task.dataset.centres else task.golden
    rng = np.random.default_rng(0)
    for _ in range(20):
        rows = torch.from_numpy(rng.integers(0, len(data), 8))
        optimiser.zero_grad()
        task.objective.loss(model(torch.from_numpy(data.x)[rows]), torch.from_numpy(data.y)[rows]).backward()  # type: ignore[no-untyped-call]
        optimiser.step()
    return {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items() if v.is_floating_point()}


def _captum(task: Task, weights: Mapping[str, NDArray[np.float32]]) -> NDArray[np.float64]:
    from captum.attr import DeepLiftShap

    class _Column(torch.nn.Module):  # captum picks the explained output by index: give it a 2-d output
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, t: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.inner(t)
            return out if out.dim() == 2 else out.unsqueeze(-1)

    model = _Column(task.model_from(weights))
    target = torch.as_tensor(task.probe.y).long() if task.objective.name != "binary" else 0
    values = DeepLiftShap(model).attribute(torch.from_numpy(task.probe.x), baselines=torch.from_numpy(task.background),
                                           target=target)
    return np.asarray(values.detach().double().numpy()).reshape(len(task.probe), -1)


def completeness_gap(task: Task, weights: Mapping[str, NDArray[np.float32]], values: NDArray[np.float64]) -> float:
    """Largest |sum of a row's attributions - (f(x) - mean f(background))|, relative to the largest |f(x) - mean f(b)|.

    DeepLIFT and SHAP promise this sum exactly (their efficiency property), whatever the architecture.
    """
    model = task.model_from(weights)
    with torch.no_grad():
        labels = torch.from_numpy(task.probe.y)
        fx = task.objective.explained(model(torch.from_numpy(task.probe.x)), labels).double().numpy()
        background = model(torch.from_numpy(task.background))
        base = np.array([task.objective.explained(background, label.repeat(task.background_size)).double().mean()
                         for label in labels])
    target = fx - base
    return float(np.abs(values.sum(axis=1) - target).max() / np.abs(target).max())


def measure(name: str, repeats: int) -> dict[str, Any]:
    """One task's timings and agreement figures."""
    task = get_task(name)
    weights = _trained(task)
    state = {k: torch.from_numpy(v) for k, v in weights.items()}
    explain = Explainer(task.build(), task.objective, task.probe.x, task.probe.y, task.background)
    ours = explain(state)
    reference = shap_deep(task.model_from(weights), task.objective, task.probe.x, task.probe.y, task.background)
    captum = _captum(task, weights)
    library_repeats = max(1, min(5, repeats // 20))
    ours_ms = _median_ms(lambda: explain(state), repeats)
    shap_ms = _median_ms(lambda: shap_deep(task.model_from(weights), task.objective, task.probe.x, task.probe.y,
                                           task.background), library_repeats)
    captum_ms = _median_ms(lambda: _captum(task, weights), library_repeats)
    return {
        "task": name, "parameters": task.parameter_count, "inputs": len(task.input_names),
        "probe_rows": task.probe_size, "background_rows": task.background_size,
        "aura_ms": ours_ms, "shap_deep_explainer_ms": shap_ms, "captum_deep_lift_shap_ms": captum_ms,
        "speedup_vs_shap": shap_ms / ours_ms, "speedup_vs_captum": captum_ms / ours_ms,
        "pearson_vs_shap": float(np.corrcoef(ours.ravel(), reference.ravel())[0, 1]),
        "spearman_vs_shap": float(spearmanr(ours.ravel(), reference.ravel())[0]),
        "max_abs_diff_vs_shap": float(np.abs(ours - reference).max()),
        "pearson_captum_vs_shap": float(np.corrcoef(captum.ravel(), reference.ravel())[0, 1]),
        "completeness_gap": {"aura": completeness_gap(task, weights, ours),
                             "shap_deep_explainer": completeness_gap(task, weights, reference),
                             "captum_deep_lift_shap": completeness_gap(task, weights, captum)},
    }


def run(tasks: Sequence[str], repeats: int, out: str) -> dict[str, Any]:
    """Measure every task, print a table, write the JSON."""
    warnings.filterwarnings("ignore")  # shap and captum warn about their own deprecations on every call
    torch.set_num_threads(1)
    rows = [measure(name, repeats if get_task(name).parameter_count < 1_000_000 else max(3, repeats // 50))
            for name in tasks]
    print(f"{'task':18} {'params':>11} {'AURA ms':>9} {'shap ms':>9} {'captum ms':>10} {'x shap':>7} "
          f"{'x captum':>8} {'spearman':>9} {'max diff':>9} {'gap aura/shap/captum':>22}")
    for r in rows:
        print(f"{r['task']:18} {r['parameters']:>11,} {r['aura_ms']:>9.3f} {r['shap_deep_explainer_ms']:>9.1f} "
              f"{r['captum_deep_lift_shap_ms']:>10.1f} {r['speedup_vs_shap']:>7.0f} {r['speedup_vs_captum']:>8.0f} "
              f"{r['spearman_vs_shap']:>9.6f} {r['max_abs_diff_vs_shap']:>9.1e} "
              + "/".join(f"{v:.0e}" for v in r["completeness_gap"].values()).rjust(22))
    result = {"machine": {"cpu_threads": 1, "platform": platform.platform(), "torch": torch.__version__},
              "repeats": repeats, "tasks": rows}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")
    return result

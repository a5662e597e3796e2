"""Task discovery: the built-in tasks come from entry points, modules named in settings add more, errors are kept."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shared.modeltask.registry import Registry, registry, tasks
from shared.modeltask.task import Task


def test_builtin_tasks_register_through_the_entry_point_group():
    found = registry()
    assert {"heart-mlp", "heart-logreg", "digits-cnn", "digits-resnet18"} <= set(found.tasks)
    assert found.sources["heart-mlp"].startswith("entry point heart = shared.modeltask.heart:TASKS")
    assert found.errors == {}


def test_a_plugin_reusing_a_name_is_left_out_with_its_error():
    first = tasks()["heart-mlp"]
    found = Registry()
    found.add("a", first)
    found.add("b", [first])

    assert found.sources == {"heart-mlp": "a"}
    assert "already provided by a" in found.errors["b"]


def test_a_plugin_that_provides_something_else_is_reported():
    found = Registry()
    found.add("bad", lambda: [42])
    assert "not a shared.modeltask.task.Task" in found.errors["bad"]


@pytest.mark.parametrize("name", sorted(tasks()))
def test_task_outputs_equal_the_torch_module_on_the_golden_set(name):
    task = tasks()[name]
    rng = np.random.default_rng(3)
    weights = {k: (v + 0.05 * rng.standard_normal(v.shape)).astype(np.float32)
               for k, v in task.initial_weights().items()}
    rows = task.golden.x[:16]
    with torch.no_grad():
        expected = task.model_from(weights)(torch.from_numpy(rows)).numpy()
    assert np.allclose(task.outputs(weights, rows), expected, atol=1e-5)


def test_schema_holds_floating_tensors_only():
    task = tasks()["digits-resnet18"]
    names = {t.name for t in task.schema.tensors}
    assert "bn1.running_mean" in names
    assert not any(n.endswith("num_batches_tracked") for n in names)


def test_weights_that_do_not_match_the_schema_are_refused():
    task: Task = tasks()["heart-mlp"]
    weights = task.initial_weights()
    weights.pop("out.bias")
    with pytest.raises(ValueError, match=r"missing \['out.bias'\]"):
        task.model_from(weights)

"""The plugin contract: a task defined outside AURA, installed through the `aura.tasks` entry point, vetted end to end.

The plugin (tests/plugin_task/aura_test_plugin.py) is installed the way pip installs a package:
a dist-info folder with its entry point on the path. Its gateway and worker are real processes on
the session's PostgreSQL, with a Redis database of their own so that no worker without the plugin
takes its messages.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
import torch

from shared.tensors import dump_arrays
from tests.conftest import ROOT, private_stack, spare_broker
from tests.support import submit, wait_recorded

PLUGIN_DIR = ROOT / "tests" / "plugin_task"
TASK = "plugin-blobs"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """PYTHONPATH on which the plugin is installed: its module, and a dist-info naming its entry point."""
    site = tmp_path_factory.mktemp("site")
    info = site / "aura_test_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: aura-test-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[aura.tasks]\nblobs = aura_test_plugin:TASKS\n")
    return os.pathsep.join([str(site), str(PLUGIN_DIR), str(ROOT)])


def _aura(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aura.cli", *args], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def test_aura_tasks_list_shows_an_entry_point_plugin(plugin_path):
    done = _aura(["tasks", "list"], {"PYTHONPATH": plugin_path})
    assert done.returncode == 0, done.stderr
    assert TASK in done.stdout
    assert "entry point blobs = aura_test_plugin:TASKS" in done.stdout
    assert "parameters 97 in 4 tensors" in done.stdout


def test_aura_tasks_check_passes_a_working_plugin(plugin_path):
    done = _aura(["tasks", "check", TASK], {"PYTHONPATH": plugin_path})
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{TASK}: ok" in done.stdout


def test_a_module_named_in_the_setting_is_a_plugin_too():
    done = _aura(["tasks", "list"], {"PYTHONPATH": f"{PLUGIN_DIR}{os.pathsep}{ROOT}",
                                     "AURA_TASK_MODULES": "aura_test_plugin"})
    assert done.returncode == 0, done.stderr
    assert "from AURA_TASK_MODULES aura_test_plugin" in done.stdout


def test_a_broken_plugin_is_reported_and_the_others_still_load():
    done = _aura(["tasks", "list"], {"AURA_TASK_MODULES": "no_such_module_for_aura"})
    assert done.returncode == 1
    assert "heart-mlp" in done.stdout
    assert "failed to load: AURA_TASK_MODULES no_such_module_for_aura" in done.stderr
    assert "ModuleNotFoundError" in done.stderr


@pytest.fixture(scope="module")
def plugin_stack(database: str, plugin_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway and a worker that have the plugin installed, on a broker database of their own."""
    env = {"PYTHONPATH": plugin_path, "AURA_BROKER_URL": spare_broker(2)}  # the reliability tests take 1
    with private_stack(env, tmp_path_factory.mktemp("plugin-logs"), "plugin") as url:
        yield url


def _plugin():  # type: ignore[no-untyped-def]
    sys.path.insert(0, str(PLUGIN_DIR))
    try:
        import aura_test_plugin
    finally:
        sys.path.remove(str(PLUGIN_DIR))
    return aura_test_plugin.TASKS[0]


def _trained(task, centre: str, seed: int) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    model = task.model_from(task.initial_weights()).train()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.05)
    data = task.dataset.centre(centre).train
    rng = np.random.default_rng(seed)
    for _ in range(40):
        rows = torch.from_numpy(rng.integers(0, len(data), 8))
        optimiser.zero_grad()
        task.objective.loss(model(torch.from_numpy(data.x)[rows]), torch.from_numpy(data.y)[rows]).backward()
        optimiser.step()
    return {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}


def test_plugin_task_is_vetted_end_to_end(plugin_stack, new_hospital, operator_headers):
    task = _plugin()
    base = task.initial_weights()
    listed = httpx.get(f"{plugin_stack}/api/v1/tasks", headers=operator_headers).json()
    plugin = next(t for t in listed if t["name"] == TASK)
    round_ = max(plugin["rounds"], default=0) + 1
    opened = httpx.post(f"{plugin_stack}/api/v1/tasks/{TASK}/rounds/{round_}", headers=operator_headers,
                        files={"file": ("global.safetensors", dump_arrays(base), "application/octet-stream")})
    assert opened.status_code == 201, opened.text

    ids = []
    for seed, centre in enumerate(("north", "south", "east")):
        response = submit(plugin_stack, new_hospital().headers, dump_arrays(_trained(task, centre, seed)),
                          task=TASK, round_=round_)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    scaled = {k: (base[k] + 25.0 * (v - base[k])).astype(np.float32) for k, v in _trained(task, "west", 9).items()}
    response = submit(plugin_stack, new_hospital().headers, dump_arrays(scaled), task=TASK, round_=round_)
    assert response.status_code == 201, response.text

    honest = [wait_recorded(plugin_stack, operator_headers, sid, timeout=120) for sid in ids]
    attacker = wait_recorded(plugin_stack, operator_headers, response.json()["id"], timeout=120)

    assert [b["verdict"] for b in honest] == ["accepted"] * 3, [b["decision"] for b in honest]
    assert honest[0]["fingerprint"]["features"] == [f"f{i}" for i in range(6)]
    assert honest[0]["evaluation"]["update_metrics"]["loss"] < honest[0]["evaluation"]["global_metrics"]["loss"]
    assert attacker["verdict"] == "rejected"
    assert any(r["signal"] == "update_norm" for r in attacker["decision"]["reasons"])
    verify = httpx.post(f"{plugin_stack}/api/v1/ledger/verify", headers=operator_headers).json()
    assert verify["ok"]


def test_an_update_for_a_task_this_gateway_lacks_is_refused_by_name(gateway, new_hospital):
    response = submit(gateway, new_hospital().headers, dump_arrays(_plugin().initial_weights()), task=TASK)
    assert response.status_code == 422
    assert "unknown task 'plugin-blobs'" in response.json()["detail"]["message"]

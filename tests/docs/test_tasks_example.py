"""docs/tasks.md's worked example, step by step: install the wine plugin, check it, run a small federation on it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, private_stack, spare_broker

pytestmark = pytest.mark.slow  # installs the example plugin and runs `aura`

EXAMPLE = ROOT / "docs" / "examples" / "aura-task-wine"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> str:
    """PYTHONPATH holding the example package as pip installs it (wheel built offline with the venv's setuptools)."""
    target = tmp_path_factory.mktemp("wine-site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(EXAMPLE)], check=True, timeout=300,
                   cwd=tmp_path_factory.mktemp("build"))
    return os.pathsep.join([str(target), str(ROOT)])


def _aura(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aura.cli", *args], cwd=cwd, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=180)


def test_installed_example_is_listed_and_passes_its_check(installed):
    listed = _aura(["tasks", "list"], {"PYTHONPATH": installed})
    checked = _aura(["tasks", "check", "wine-mlp"], {"PYTHONPATH": installed})

    assert listed.returncode == 0, listed.stderr
    assert "entry point wine = aura_task_wine:TASKS" in listed.stdout
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.fixture(scope="module")
def wine_stack(database: str, installed: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    """A gateway and a worker with the example installed (a Redis database of their own), round 1 open."""
    env = {"PYTHONPATH": installed, "AURA_BROKER_URL": spare_broker(3)}
    migrated = _aura(["migrate"], env)  # `aura up` does this: opens round 1 of every installed task
    assert migrated.returncode == 0, migrated.stderr
    with private_stack(env, tmp_path_factory.mktemp("wine-logs"), "wine") as url:
        yield url, env


def test_small_federation_on_the_example_task(wine_stack):
    url, env = wine_stack
    suffix = uuid.uuid4().hex[:6]
    lines = []
    for clinic, scale in (("clinic-a", "1"), ("clinic-b", "1"), ("clinic-c", "25")):
        added = _aura(["hospitals", "add", f"{clinic}-{suffix}", "--centre", clinic], env)
        assert added.returncode == 0, added.stderr
        key = added.stdout.strip().splitlines()[-1]
        done = subprocess.run([sys.executable, "train_and_submit.py", "--clinic", clinic, "--key", key, "--url", url,
                               "--scale", scale], cwd=EXAMPLE, env={**os.environ, **env}, capture_output=True,
                              text=True, timeout=180)
        assert done.returncode == 0, done.stdout + done.stderr
        lines.append(done.stdout.strip())

    assert lines[0].startswith("clinic-a: accepted"), lines
    assert lines[1].startswith("clinic-b: accepted"), lines
    assert lines[2].startswith("clinic-c: rejected"), lines
    assert "norm" in lines[2]

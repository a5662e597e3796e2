"""`aura federations` and `aura calibrate` as an operator types them, against the session's PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

from tests.conftest import ROOT


def _aura(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aura.cli", *args], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)


def test_an_operator_creates_a_federation_starts_a_run_and_lists_them(database):
    federation = f"cli-{uuid.uuid4().hex[:8]}"

    added = _aura("federations", "add", federation, "--task", "heart-logreg", "--recipe", '{"lr": 0.01}',
                  "--calibration-rounds", "2")
    run = _aura("federations", "run", federation)
    listed = _aura("federations", "list")

    assert added.returncode == 0, added.stderr
    assert run.returncode == 0 and run.stdout.strip() == "2"
    line = next(line for line in listed.stdout.splitlines() if line.startswith(federation))
    assert "(heart-logreg)" in line and "run 2: rounds none" in line and "AURA defaults" in line


def test_calibrating_rounds_that_are_not_open_says_which(database):
    federation = f"cli-{uuid.uuid4().hex[:8]}"
    assert _aura("federations", "add", federation, "--task", "heart-logreg").returncode == 0

    done = _aura("calibrate", federation, "--rounds", "1-3")

    assert done.returncode != 0
    assert "rounds [1, 2, 3] of" in done.stderr and "are not open" in done.stderr


def test_a_federation_for_an_unknown_task_is_refused_by_name(database):
    done = _aura("federations", "add", f"cli-{uuid.uuid4().hex[:8]}", "--task", "no-such-task")
    assert done.returncode != 0 and "unknown task 'no-such-task'" in done.stderr

"""A command that cannot use its database exits 1 with one line saying what to run, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # runs `aura` in processes of its own


def _aura(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aura.cli", *args], cwd=ROOT, env=os.environ | env,
                          capture_output=True, text=True, timeout=120)


def test_a_command_before_aura_migrate_says_to_run_it(tmp_path):
    done = _aura({"AURA_DATA_DIR": str(tmp_path), "AURA_DATABASE_URL": ""}, "hospitals", "add", "h1")

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: the database sqlite:///{tmp_path}/aura.db has no AURA schema yet: run `aura migrate` first"]


def test_an_unreachable_database_is_named_without_its_password():
    done = _aura({"AURA_DATABASE_URL": "postgresql+psycopg2://aura:s3cret@127.0.0.1:1/aura"}, "federations", "list")

    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "cannot use the database 127.0.0.1:1/aura" in done.stderr and "s3cret" not in done.stderr

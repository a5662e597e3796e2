"""`aura submit`: an update reaches the gateway, and a refusal shows the gateway's code and message."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.support import trained_update

pytestmark = pytest.mark.integration


def _submit(gateway: str, key: str, path, *extra: str) -> subprocess.CompletedProcess[str]:
    scope = [] if "--federation" in extra else ["--task", "heart-mlp"]
    cmd = [sys.executable, "-m", "aura.cli", "submit", str(path), *scope, "--url", gateway, *extra]
    return subprocess.run(cmd, cwd=ROOT, env={**os.environ, "AURA_API_KEY": key}, capture_output=True, text=True,
                          timeout=120)


def test_submit_prints_the_submission_and_waits_for_its_verdict(gateway, worker, new_hospital, new_round, tmp_path):
    hospital = new_hospital()
    update = tmp_path / "update.safetensors"
    update.write_bytes(trained_update(centre="Hungary"))

    done = _submit(gateway, hospital.key, update, "--round", str(new_round()), "--wait", "90")

    assert done.returncode == 0, done.stderr
    assert "queued" in done.stdout
    assert "verdict: accepted" in done.stdout


def test_a_refused_upload_shows_the_gateways_code_and_message(gateway, new_hospital, tmp_path):
    hospital = new_hospital()
    evil = tmp_path / "update.safetensors"
    evil.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}))

    done = _submit(gateway, hospital.key, evil, "--round", "1")

    assert done.returncode == 1
    assert "gateway refused (415 pickle_refused)" in done.stderr
    assert "never opens pickle files" in done.stderr


def test_submit_into_a_federation_names_its_run(gateway, worker, new_hospital, operator_headers, tmp_path):
    import uuid

    from fl.sdk import AuraClient
    from shared.modeltask.registry import get_task
    from shared.tensors import dump_arrays

    federation = f"cli-{uuid.uuid4().hex[:8]}"
    with AuraClient(gateway, operator_headers["X-API-Key"]) as operator:
        operator.create_federation(federation, "heart-mlp")
        operator.open_federation_round(federation, 1, 1, dump_arrays(get_task("heart-mlp").initial_weights()))
    update = tmp_path / "update.safetensors"
    update.write_bytes(trained_update(centre="Hungary"))

    cmd = [sys.executable, "-m", "aura.cli", "submit", str(update), "--federation", federation, "--round", "1",
           "--url", gateway]
    done = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "AURA_API_KEY": new_hospital().key}, capture_output=True,
                          text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert f"(task heart-mlp, federation {federation} run 1, round 1)" in done.stdout


def test_a_hospital_makes_a_key_the_operator_registers_it_and_submit_signs_with_it(
        gateway, new_hospital, operator_headers, tmp_path):
    import uuid

    from fl.sdk import AuraClient
    from shared.modeltask.registry import get_task
    from shared.tensors import dump_arrays

    hospital, federation, pem = new_hospital(), f"signed-cli-{uuid.uuid4().hex[:8]}", tmp_path / "hospital.pem"
    made = _aura("hospitals", "keygen", "--out", str(pem))
    assert made.returncode == 0, made.stderr
    assert pem.stat().st_mode & 0o777 == 0o600
    public = made.stdout.rsplit(" ", 1)[-1].strip()
    registered = _aura("hospitals", "register-key", hospital.id, public)
    assert registered.returncode == 0, registered.stderr
    assert _aura("federations", "add", federation, "--task", "heart-mlp", "--require-signatures").returncode == 0
    with AuraClient(gateway, operator_headers["X-API-Key"]) as operator:
        operator.open_federation_round(federation, 1, 1, dump_arrays(get_task("heart-mlp").initial_weights()))
    update = tmp_path / "update.safetensors"
    update.write_bytes(trained_update(centre="Hungary"))

    unsigned = _submit(gateway, hospital.key, update, "--federation", federation, "--round", "1")
    signed = _submit(gateway, hospital.key, update, "--federation", federation, "--round", "1",
                     "--signing-key", str(pem))

    assert unsigned.returncode == 1 and "403 signature_required" in unsigned.stderr
    assert signed.returncode == 0, signed.stderr
    assert f"signed by key {made.stdout.split()[1].rstrip(',')}" in signed.stdout


def _aura(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aura.cli", *args], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=120)

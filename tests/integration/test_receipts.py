"""A hospital's receipt, end to end: submitted through the gateway, verified offline."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from services.ledger.verify_offline import verify_receipt
from tests.support import submit, trained_update, wait_recorded

ROOT = Path(__file__).resolve().parents[2]


def _aura(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aura.cli", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_receipt_of_a_vetted_update_verifies_offline_and_with_the_cli(gateway, worker, new_hospital, tmp_path):
    hospital = new_hospital()
    response = submit(gateway, hospital.headers, trained_update(centre="Hungary", seed=3))
    assert response.status_code == 201, response.text
    recorded = wait_recorded(gateway, hospital.headers, response.json()["id"])
    vkey = httpx.get(f"{gateway}/api/v1/ledger/key", headers=hospital.headers).json()["vkey"]

    receipt = httpx.get(f"{gateway}/api/v1/submissions/{recorded['id']}/receipt", headers=hospital.headers)

    assert receipt.status_code == 200, receipt.text
    check = verify_receipt(receipt.json(), vkey)
    assert (check.submission_id, check.index, check.verdict) == (recorded["id"], recorded["ledger_index"],
                                                                 recorded["verdict"])
    saved = tmp_path / "receipt.json"
    saved.write_text(receipt.text)
    cli = _aura("verify", "receipt", str(saved), "--key", vkey)
    assert cli.returncode == 0, cli.stderr
    assert f"is entry {check.index}" in cli.stdout


def test_cli_rejects_a_receipt_whose_entry_was_altered(gateway, worker, new_hospital, tmp_path):
    hospital = new_hospital()
    response = submit(gateway, hospital.headers, trained_update(centre="Switzerland", seed=4))
    recorded = wait_recorded(gateway, hospital.headers, response.json()["id"])
    receipt = httpx.get(f"{gateway}/api/v1/submissions/{recorded['id']}/receipt", headers=hospital.headers).json()
    vkey = httpx.get(f"{gateway}/api/v1/ledger/key", headers=hospital.headers).json()["vkey"]
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**receipt, "entry": receipt["entry"].replace('"round":1', '"round":2')}))

    cli = _aura("verify", "receipt", str(forged), "--key", vkey)

    assert cli.returncode == 1
    assert "FAILED" in cli.stderr


def test_another_hospital_cannot_fetch_the_receipt(gateway, worker, new_hospital):
    owner, other = new_hospital(), new_hospital()
    response = submit(gateway, owner.headers, trained_update(centre="Cleveland", seed=5))
    recorded = wait_recorded(gateway, owner.headers, response.json()["id"])

    answer = httpx.get(f"{gateway}/api/v1/submissions/{recorded['id']}/receipt", headers=other.headers)

    assert answer.status_code == 404


def test_exported_ledger_verifies_offline_with_the_cli(gateway, worker, new_hospital, operator_headers, tmp_path):
    hospital = new_hospital()
    response = submit(gateway, hospital.headers, trained_update(centre="Cleveland", seed=6))
    wait_recorded(gateway, hospital.headers, response.json()["id"])
    vkey = httpx.get(f"{gateway}/api/v1/ledger/key", headers=operator_headers).json()["vkey"]

    exported = _aura("ledger", "export", str(tmp_path / "export"))
    assert exported.returncode == 0, exported.stderr
    checked = _aura("verify", "export", str(tmp_path / "export"), "--key", vkey)

    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("OK:")

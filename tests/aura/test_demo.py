"""`aura demo --exit --summary FILE` on the embedded default, with short settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.slow  # a whole demo: workers, a federation, FedAvg beside it


def test_demo_vets_a_federation_with_an_attacker_and_writes_its_summary(tmp_path):
    summary_path = tmp_path / "summary.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AURA_")}  # embedded: no servers configured
    env |= {"AURA_DATA_DIR": str(tmp_path / "state"), "COLUMNS": "160"}
    cmd = [sys.executable, "-m", "aura.cli", "demo", "--rounds", "2", "--local-steps", "20", "--runner", "inprocess",
           "--port", str(free_port()), "--exit", "--summary", str(summary_path)]

    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads(summary_path.read_text())
    assert summary["attack"] == "scaling" and summary["attackers"] == ["switzerland"]
    assert [r["round"] for r in summary["per_round"]] == [1, 2]
    for r in summary["per_round"]:
        assert set(r["verdicts"]) == {"cleveland", "hungary", "switzerland", "va-long-beach"}
        assert r["verdicts"]["switzerland"]["verdict"] == "rejected"
        assert {h: v["verdict"] for h, v in r["verdicts"].items() if h != "switzerland"} == {
            "cleveland": "accepted", "hungary": "accepted", "va-long-beach": "accepted"}
        assert all(v["reason"] for v in r["verdicts"].values())
    accuracy = summary["final_accuracy"]
    assert set(accuracy) == {"with_aura", "fedavg_under_attack", "fedavg_no_attack"}
    assert accuracy["with_aura"] > accuracy["fedavg_under_attack"]
    metrics = summary["final_metrics"]
    assert metrics["with_aura"]["backdoor_asr"] < metrics["fedavg_under_attack"]["backdoor_asr"]
    assert summary["ledger_verified"] is True and summary["ledger_size"] >= 8
    assert "FedAvg + AURA, under attack" in done.stdout and "ledger: verified" in done.stdout
    assert (tmp_path / "state" / "aura.db").exists()

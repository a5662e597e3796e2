"""A tiny detection benchmark end to end: runs, the JSON document's layout, the report and its figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.grid.grid import Scenario, grid
from bench.grid.report import write_report
from bench.grid.runner import done_keys, run_grid
from bench.grid.summary import load_runs, summarise

pytestmark = pytest.mark.slow  # runs benchmark grids

# Two rounds of 10 steps, one attacker, one attack: FedAvg, AURA and Bulyan (which cannot run here).
SPECS = list(grid(tasks=("heart-logreg",), seeds=(42,), attacks=("scaling",), defences=("fedavg", "aura", "bulyan"),
                  scenario_list=[Scenario(1, ("hungary",))], rounds=2, local_steps=10))


def test_a_tiny_grid_runs_end_to_end_and_writes_the_documented_layout(tmp_path: Path):
    runs = tmp_path / "runs.jsonl"
    assert run_grid(SPECS, runs, workers=1) == len(SPECS) == 6
    assert run_grid(SPECS, runs, workers=1) == 0  # resuming skips what is done
    assert done_keys(runs) == {s.key for s in SPECS}

    document = summarise(load_runs(runs))
    write_report(document, tmp_path / "detection.json", tmp_path / "detection.md")

    stored = json.loads((tmp_path / "detection.json").read_text())
    assert set(stored) == {"meta", "tasks", "runs"}
    assert stored["meta"]["ok"] == 5 and stored["meta"]["not_applicable"] == 1
    task = stored["tasks"]["heart-logreg"]
    assert set(task) == {"defences", "detection", "fedavg_without_attack_by_split", "ablation", "goals"}
    aura = task["defences"]["aura"]
    assert {"no_attack", "accuracy_by_attack", "worst_case", "worst_attack", "backdoor_asr",
            "mean_accuracy_under_attack"} <= set(aura)
    assert set(aura["no_attack"]["centres"]) == {"cleveland", "hungary", "switzerland", "va-long-beach"}
    assert task["defences"]["bulyan"]["worst_case"] is None and task["defences"]["bulyan"]["not_applicable"] == 1
    overall = task["detection"]["overall"]
    assert overall["tp"] + overall["fn"] == 2 and overall["tp"] == 2  # the scaled updates of both rounds
    assert overall["fp"] == 0 and task["detection"]["unexplained_rejections"] == 0
    assert {g["goal"][:20] for g in task["goals"]} and all(set(g) == {"goal", "value", "met"} for g in task["goals"])
    assert "all signals (AURA)" in task["ablation"] and "fingerprint only" in task["ablation"]

    by_defence = {r["defence"]: r for r in stored["runs"] if r["attack"] == "scaling"}
    assert by_defence["bulyan"]["status"] == "not_applicable" and "4f + 3" in by_defence["bulyan"]["note"]
    record = by_defence["aura"]
    assert {"key", "task", "split", "attackers", "attack", "defence", "seed", "final", "detection",
            "updates"} <= set(record)
    assert {"pooled_accuracy", "mean_centre_accuracy", "pooled_balanced_accuracy", "pooled_auc", "backdoor_asr",
            "centres"} <= set(record["final"])
    assert len(record["updates"]) == 8 and all(len(u) == 5 for u in record["updates"])

    report = (tmp_path / "detection.md").read_text()
    assert "## Layout of detection.json" in report and "### Goals" in report
    assert (tmp_path / "detection-scores-logreg.png").stat().st_size > 0


def test_any_installed_task_runs_its_own_scenarios(tmp_path: Path):
    # digits-cnn: 8 sites, so 8 single-attacker scenarios; rotate gives each attack the next site.
    specs = list(grid(tasks=("digits-cnn",), seeds=(42,), attacks=("sign-flip", "backdoor"),
                      defences=("fedavg", "aura"), rounds=1, local_steps=2, splits=(1,), rotate=True))
    attacked = {(s.attack, s.attackers) for s in specs if s.attackers}
    assert attacked == {("sign-flip", ("site-1",)), ("backdoor", ("site-2",))}
    assert {s.hospitals for s in specs} == {8}

    runs = tmp_path / "runs.jsonl"
    assert run_grid(specs, runs, workers=1) == len(specs) == 6
    document = summarise(load_runs(runs))
    write_report(document, tmp_path / "detection-digits-cnn.json", tmp_path / "detection-digits-cnn.md")
    task = json.loads((tmp_path / "detection-digits-cnn.json").read_text())["tasks"]["digits-cnn"]
    overall = task["detection"]["overall"]
    assert {"tpr", "fpr", "auroc"} <= set(overall) and overall["tp"] + overall["fn"] == 2
    assert set(task["detection"]["by_attack"]) == {"none", "sign-flip", "backdoor"}
    assert len(task["defences"]["aura"]["no_attack"]["centres"]) == 8

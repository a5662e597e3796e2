"""The run API: start a vetted federation over HTTP, follow its rounds, download its model."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from shared.modeltask.registry import get_task
from shared.tensors import load_arrays, parse_header
from tests.conftest import running_gateway, wait_for

pytestmark = pytest.mark.integration


def _wait_finished(gateway: str, headers: dict[str, str], run_id: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    body: dict = {}
    while time.monotonic() < deadline:
        body = httpx.get(f"{gateway}/api/v1/runs/{run_id}", headers=headers, timeout=10).json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} not finished within {timeout}s: {body}")


def test_a_run_started_over_http_reports_its_rounds_and_serves_its_model(gateway, worker, operator_headers):
    request = {"rounds": 2, "local_steps": 10, "attacks": [{"hospital": "switzerland", "attack": "scaling"}]}

    # A Host header of the caller's choosing: the run's fresh keys must still go only to the
    # configured gateway (had they gone to this host, the run could not reach AURA and would fail).
    created = httpx.post(f"{gateway}/api/v1/runs", json=request, timeout=30,
                         headers=operator_headers | {"Host": "keys-wanted.example:9"})

    assert created.status_code == 201, created.text
    run = _wait_finished(gateway, operator_headers, created.json()["id"])
    assert run["status"] == "done", run["error"]
    rounds = run["results"]["rounds"]
    assert [r["round"] for r in rounds] == [1, 2]
    for r in rounds:
        verdicts = {v["hospital"]: v["verdict"] for v in r["verdicts"]}
        assert verdicts["switzerland"] == "rejected", r["verdicts"]
        assert sorted(r["accepted"]) == sorted(h for h, v in verdicts.items() if v == "accepted")
        assert r["plain_accuracy"] is not None and 0 <= r["accuracy"] <= 1
    assert run["results"]["final_metrics"]["pooled_accuracy"] == rounds[-1]["accuracy"]
    assert "plain_final_metrics" in run["results"]
    model = httpx.get(f"{gateway}/api/v1/runs/{run['id']}/model", headers=operator_headers, timeout=30)
    assert model.status_code == 200
    arrays = load_arrays(model.content, parse_header(model.content, max_header_bytes=65536))
    assert {k: list(v.shape) for k, v in arrays.items()} == {
        t.name: list(t.shape) for t in get_task("heart-logreg").schema.tensors}
    listed = httpx.get(f"{gateway}/api/v1/runs", headers=operator_headers, timeout=10).json()
    assert run["id"] in [item["id"] for item in listed["items"]]
    # The run's keys say so, and none outlives it; hospitals that existed keep the keys they had.
    keys = httpx.get(f"{gateway}/api/v1/keys", headers=operator_headers, timeout=10).json()
    minted = [k for k in keys if run["id"] in (k["purpose"] or "")]
    assert sorted(k["hospital_id"] or "operator" for k in minted) == sorted(
        ["cleveland", "hungary", "switzerland", "va-long-beach", "operator"])
    assert all(k["revoked_at"] is not None for k in minted)


def test_a_run_naming_an_unknown_attacker_is_refused(gateway, operator_headers):
    request = {"rounds": 1, "attacks": [{"hospital": "atlantis", "attack": "sign-flip"}]}

    response = httpx.post(f"{gateway}/api/v1/runs", json=request, headers=operator_headers, timeout=30)

    assert response.status_code == 422
    assert "atlantis" in response.json()["detail"]["message"]


def test_hospital_keys_cannot_start_or_read_runs(gateway, new_hospital):
    hospital = new_hospital()

    assert httpx.post(f"{gateway}/api/v1/runs", json={}, headers=hospital.headers, timeout=30).status_code == 403
    assert httpx.get(f"{gateway}/api/v1/runs", headers=hospital.headers, timeout=30).status_code == 403


def _kill_run(run_id: str) -> None:
    """SIGKILL a run's child process group (a run has no cancel; the test must not leave one training)."""
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit() and f"fl.run_worker\0{run_id}".encode() in (proc / "cmdline").read_bytes():
                os.killpg(int(proc.name), signal.SIGKILL)


def test_a_run_while_the_most_runs_are_in_progress_is_429_and_the_slot_frees_when_one_ends(
        database, operator_headers, tmp_path):
    long = {"rounds": 200, "local_steps": 10_000, "vetted": False}  # plain Flower: it needs no vetting worker
    started: list[str] = []
    with running_gateway({"AURA_MAX_ACTIVE_RUNS": "1", "AURA_DATA_DIR": str(tmp_path)},
                         tmp_path / "gateway.log") as url:
        try:
            first = httpx.post(f"{url}/api/v1/runs", json=long, headers=operator_headers, timeout=30)
            started.append(first.json()["id"])
            refused = httpx.post(f"{url}/api/v1/runs", json=long, headers=operator_headers, timeout=30)
            _kill_run(started[0])
            wait_for(lambda: httpx.post(f"{url}/api/v1/runs", json=long, headers=operator_headers, timeout=30)
                     .status_code == 201, 30, "a run to start once the first has ended")
            started += [r["id"] for r in httpx.get(f"{url}/api/v1/runs", headers=operator_headers).json()["items"]
                        if r["id"] not in started]
        finally:
            for run_id in started:
                _kill_run(run_id)

    assert first.status_code == 201
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
    assert refused.json()["detail"]["code"] == "too_many_runs"

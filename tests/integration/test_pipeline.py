"""End to end on real PostgreSQL, Redis, a Celery worker process and the gateway over HTTP."""

from __future__ import annotations

import httpx

from tests.support import submit, trained_update, wait_recorded


def test_honest_update_is_accepted_and_recorded_in_the_ledger(gateway, worker, new_hospital, operator_headers):
    hospital = new_hospital()
    response = submit(gateway, hospital.headers, trained_update(centre="Cleveland"))
    assert response.status_code == 201, response.text

    body = wait_recorded(gateway, operator_headers, response.json()["id"])

    assert body["verdict"] == "accepted", body["decision"]
    assert body["ledger_index"] is not None
    assert body["evaluation"]["update_metrics"]["loss"] < body["evaluation"]["global_metrics"]["loss"]
    assert len(body["fingerprint"]["attribution"]) == 13
    verify = httpx.post(f"{gateway}/api/v1/ledger/verify", headers=operator_headers).json()
    assert verify["ok"] and verify["size"] >= 1


def test_hugely_scaled_update_is_rejected_with_a_norm_reason(gateway, worker, new_hospital, operator_headers):
    honest = [new_hospital() for _ in range(2)]
    for i, h in enumerate(honest):
        assert submit(gateway, h.headers, trained_update(centre="Cleveland", seed=i), round_=1).status_code == 201
    attacker = new_hospital()
    from tests.support import perturbed_update

    response = submit(gateway, attacker.headers, perturbed_update(seed=9, scale=5.0))

    body = wait_recorded(gateway, operator_headers, response.json()["id"])
    assert body["verdict"] == "rejected"
    assert body["decision"]["score"] >= body["decision"]["threshold"]
    assert body["decision"]["reasons"][0]["severity"] >= 0.5
    assert any(r["signal"] == "update_norm" for r in body["decision"]["reasons"])

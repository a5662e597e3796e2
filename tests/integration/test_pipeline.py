"""End to end on real PostgreSQL, Redis, a Celery worker process and the gateway over HTTP."""

from __future__ import annotations

import json

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from shared.evidence import evidence_digest
from shared.models import Decision, Evaluation, Fingerprint
from tests.support import perturbed_update, submit, trained_update, wait_recorded


def test_honest_update_is_accepted_and_recorded_in_the_ledger(gateway, worker, new_hospital, new_round,
                                                              operator_headers):
    hospital = new_hospital()
    response = submit(gateway, hospital.headers, trained_update(centre="Cleveland"), round_=new_round())
    assert response.status_code == 201, response.text

    body = wait_recorded(gateway, operator_headers, response.json()["id"])

    assert body["verdict"] == "accepted", body["decision"]
    assert body["ledger_index"] is not None
    assert body["evaluation"]["update_metrics"]["loss"] < body["evaluation"]["global_metrics"]["loss"]
    assert len(body["fingerprint"]["attribution"]) == 13
    verify = httpx.post(f"{gateway}/api/v1/ledger/verify", headers=operator_headers).json()
    assert verify["ok"] and verify["size"] >= 1


def test_the_ledger_entry_commits_to_the_evidence_the_detector_decided_on(gateway, worker, database, new_hospital,
                                                                          new_round, operator_headers):
    response = submit(gateway, new_hospital().headers, trained_update(centre="Hungary", seed=5), round_=new_round())
    sid = wait_recorded(gateway, operator_headers, response.json()["id"])["id"]
    receipt = httpx.get(f"{gateway}/api/v1/submissions/{sid}/receipt", headers=operator_headers).json()

    engine = sa.create_engine(database)
    with Session(engine) as session:
        decision = session.get_one(Decision, sid)
        from_rows = evidence_digest(session.get(Evaluation, sid), session.get(Fingerprint, sid), decision.features)
    engine.dispose()
    # The detector digested its in-memory evidence; the stored rows (read back through JSONB) give the same.
    assert decision.evidence_sha256 == from_rows
    assert json.loads(receipt["entry"])["evidence_sha256"] == from_rows


def test_hugely_scaled_update_is_rejected_with_a_norm_reason(gateway, worker, new_hospital, new_round,
                                                             operator_headers):
    round_ = new_round()
    for i, centre in enumerate(("Cleveland", "Hungary")):
        update = trained_update(centre=centre, seed=i)
        assert submit(gateway, new_hospital().headers, update, round_=round_).status_code == 201

    response = submit(gateway, new_hospital().headers, perturbed_update(seed=9, scale=5.0), round_=round_)

    body = wait_recorded(gateway, operator_headers, response.json()["id"])
    assert body["verdict"] == "rejected"
    assert body["decision"]["score"] >= body["decision"]["threshold"]
    assert body["decision"]["reasons"][0]["severity"] >= 0.5
    assert any(r["signal"] == "update_norm" for r in body["decision"]["reasons"])

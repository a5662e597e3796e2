"""A federation with its own training recipe, calibrated on shadow rounds it vouches for, then vetted with attacks.

The recipe is not FLamby's (learning rate 0.05, about two local epochs instead of lr 1e-3 for 100
steps): honest steps are far larger than the ones AURA's default thresholds were fitted on.
"""

from __future__ import annotations

import json
import uuid

import httpx
import numpy as np
import pytest

from fl.sdk import AuraClient
from shared.modeltask.registry import get_task
from shared.tensors import dump_arrays, load_arrays, parse_header
from tests.support import submit, trained_update, wait_recorded

pytestmark = pytest.mark.integration
TASK = "heart-mlp"
CENTRES = ("Cleveland", "Hungary", "Switzerland", "VA Long Beach")
RECIPE = {"lr": 0.05, "local_epochs": 2, "batch_size": 4, "optimizer": "sgd"}


def _arrays(data: bytes) -> dict[str, np.ndarray]:
    return load_arrays(data, parse_header(data, max_header_bytes=65536))


def _round(gateway, headers, federation, round_, start, hospitals, attacker=None):  # type: ignore[no-untyped-def]
    """Open the round with `start`, send every hospital's recipe update (and an attacker's); their records."""
    with AuraClient(gateway, headers["X-API-Key"]) as operator:
        assert operator.open_federation_round(federation, 1, round_, dump_arrays(start))["round"] == round_
    ids, sent = [], []
    for index, (centre, hospital) in enumerate(zip(CENTRES, hospitals, strict=True)):
        rows = len(get_task(TASK).dataset.centre(centre).train)
        data = trained_update(centre=centre, steps=2 * rows // 4, lr=RECIPE["lr"], batch=4, seed=round_ * 10 + index,
                              start=start)
        sent.append(_arrays(data))
        response = submit(gateway, hospital.headers, data, task=None, federation=federation, round_=round_)
        ids.append(response.json()["id"])
    if attacker is not None:
        boosted = {k: (start[k] + 10.0 * (sent[0][k] - start[k])).astype(np.float32) for k in start}
        response = submit(gateway, attacker.headers, dump_arrays(boosted), task=None, federation=federation,
                          round_=round_)
        ids.append(response.json()["id"])
    bodies = [wait_recorded(gateway, headers, sid) for sid in ids]
    average = {k: np.mean([s[k] for s in sent], axis=0).astype(np.float32) for k in start}
    return bodies, average


def test_a_federation_calibrated_on_its_shadow_rounds_accepts_its_recipe_and_still_rejects_attacks(
        gateway, worker, operator_headers, new_hospital):
    federation = f"recipe-{uuid.uuid4().hex[:8]}"
    with AuraClient(gateway, operator_headers["X-API-Key"]) as operator:
        created = operator.create_federation(federation, TASK, recipe=RECIPE, calibration_rounds=3)
    assert created["runs"] == [{"run": 1, "rounds": [], "calibration_rounds": 3}]
    hospitals = [new_hospital() for _ in CENTRES]
    weights = get_task(TASK).initial_weights()
    shadow = []
    for round_ in (1, 2, 3):
        bodies, weights = _round(gateway, operator_headers, federation, round_, weights, hospitals)
        shadow += bodies
    assert {b["decision"]["calibration"] for b in shadow} == {"AURA defaults (Fed-Heart-Disease, FLamby's recipe)"}
    assert {b["verdict"] for b in shadow} == {"accepted"}  # vouched for, whatever the defaults found
    would_reject = sum(b["decision"]["features"]["calibration_round_verdict"] == "rejected" for b in shadow)

    with AuraClient(gateway, operator_headers["X-API-Key"]) as operator:
        fitted = operator.calibrate(federation, run=1, rounds=[1, 2, 3], note="shadow rounds, all hospitals audited")
    assert fitted["name"] == f"{federation} v1" and fitted["source"]["updates"] == 12
    events = [e for e in httpx.get(f"{gateway}/api/v1/ledger/entries", params={"limit": 200},
                                   headers=operator_headers).json()["items"] if e["submission_id"] is None]
    recorded = [json.loads(e["entry"]) for e in events]
    assert [(r["kind"], r["calibration"], r["source"]["rounds"]) for r in recorded
            if r["federation"] == federation] == [("calibration", f"{federation} v1", [1, 2, 3])]

    bodies, _ = _round(gateway, operator_headers, federation, 4, weights, hospitals, attacker=new_hospital())
    honest, attack = bodies[:-1], bodies[-1]
    assert {b["decision"]["calibration"] for b in bodies} == {f"{federation} v1"}
    assert [b["verdict"] for b in honest] == ["accepted"] * 4, [b["decision"]["reasons"][:2] for b in honest]
    assert attack["verdict"] == "rejected"
    listed = httpx.get(f"{gateway}/api/v1/federations/{federation}", headers=operator_headers).json()
    assert listed["calibration"] == f"{federation} v1"
    verified = httpx.post(f"{gateway}/api/v1/ledger/verify", headers=operator_headers).json()
    assert verified["ok"], verified  # the calibration's entry is part of the verified log
    assert would_reject >= 8, would_reject  # the defaults, fitted on FLamby's recipe, reject most of this one's

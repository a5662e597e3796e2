"""The image tasks through the whole pipeline: gateway, Redis, Celery worker, PostgreSQL, ledger."""

from __future__ import annotations

import numpy as np

from shared.modeltask.registry import get_task
from shared.tensors import dump_arrays, load_arrays, parse_header
from tests.support import submit, trained_update, wait_recorded


def test_digits_cnn_honest_updates_are_accepted_and_a_scaled_one_rejected(gateway, worker, new_hospital, new_round,
                                                                          operator_headers):
    round_ = new_round("digits-cnn")
    ids = []
    for seed, site in enumerate(("site-3", "site-6", "site-7")):
        update = trained_update(task="digits-cnn", centre=site, steps=100, seed=seed, lr=0.1, batch=16)
        response = submit(gateway, new_hospital().headers, update, task="digits-cnn", round_=round_)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    base = get_task("digits-cnn").initial_weights()
    data = trained_update(task="digits-cnn", centre="site-1", steps=100, seed=7, lr=0.1, batch=16)
    trained = load_arrays(data, parse_header(data, max_header_bytes=65536))
    scaled = {k: (base[k] + 20.0 * (v - base[k])).astype(np.float32) for k, v in trained.items()}
    attacker = submit(gateway, new_hospital().headers, dump_arrays(scaled), task="digits-cnn", round_=round_)

    honest = [wait_recorded(gateway, operator_headers, sid) for sid in ids]
    rejected = wait_recorded(gateway, operator_headers, attacker.json()["id"])

    assert [b["verdict"] for b in honest] == ["accepted"] * 3, [b["decision"] for b in honest]
    assert len(honest[0]["fingerprint"]["attribution"]) == 64  # one per pixel of the 8x8 image
    assert honest[0]["evaluation"]["update_metrics"]["accuracy"] > honest[0]["evaluation"]["global_metrics"]["accuracy"]
    assert rejected["verdict"] == "rejected"
    assert rejected["ledger_index"] is not None


def test_resnet18_update_of_11m_parameters_is_vetted_and_recorded(gateway, worker, new_hospital, new_round,
                                                                  operator_headers):
    round_ = new_round("digits-resnet18")
    update = trained_update(task="digits-resnet18", centre="site-7", steps=2, lr=0.01, batch=8)
    assert len(update) > 40_000_000  # ~11.2M float32 values: far past the 8 MiB default cap

    response = submit(gateway, new_hospital().headers, update, task="digits-resnet18", round_=round_)
    assert response.status_code == 201, response.text
    body = wait_recorded(gateway, operator_headers, response.json()["id"], timeout=240)

    assert body["verdict"] in ("accepted", "rejected")
    assert body["decision"]["reasons"], body["decision"]
    assert len(body["fingerprint"]["attribution"]) == 32 * 32
    assert body["evaluation"]["update_metrics"]["n"] == len(get_task("digits-resnet18").golden)

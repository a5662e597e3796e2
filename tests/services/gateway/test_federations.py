"""Federations over HTTP: create one, start runs, open rounds in order, submit into a run; runs share no history."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from shared.modeltask.registry import get_task
from shared.tensors import dump_arrays
from tests.support import submit, trained_update, wait_recorded

pytestmark = pytest.mark.integration
TASK = "heart-mlp"


def _model() -> bytes:
    return dump_arrays(get_task(TASK).initial_weights())


def _open(gateway: str, headers: dict[str, str], federation: str, run: int, round_: int,
          data: bytes | None = None) -> httpx.Response:
    return httpx.post(f"{gateway}/api/v1/federations/{federation}/runs/{run}/rounds/{round_}", headers=headers,
                      files={"file": ("global.safetensors", data or _model(), "application/octet-stream")}, timeout=30)


def _federation(gateway: str, headers: dict[str, str], **extra: object) -> str:
    federation = f"fed-{uuid.uuid4().hex[:8]}"
    body = {"id": federation, "task": TASK, "name": "Heart consortium",
            "recipe": {"lr": 0.05, "local_epochs": 2, "batch_size": 4, "optimizer": "sgd"}, **extra}
    created = httpx.post(f"{gateway}/api/v1/federations", json=body, headers=headers, timeout=30)
    assert created.status_code == 201, created.text
    return federation


def test_a_new_federation_has_an_empty_run_1_and_keeps_its_recipe(gateway, operator_headers):
    federation = _federation(gateway, operator_headers)

    body = httpx.get(f"{gateway}/api/v1/federations/{federation}", headers=operator_headers).json()

    assert body["task"] == TASK and body["runs"] == [{"run": 1, "rounds": [], "calibration_rounds": 0}]
    assert body["calibration"] is None
    assert body["recipe"]["lr"] == 0.05


def test_federations_with_an_unknown_task_a_bad_id_or_a_taken_id_are_refused(gateway, operator_headers):
    federation = _federation(gateway, operator_headers)
    unknown = httpx.post(f"{gateway}/api/v1/federations", json={"id": "x1", "task": "no-such-task"},
                         headers=operator_headers)
    bad_id = httpx.post(f"{gateway}/api/v1/federations", json={"id": "Has Spaces", "task": TASK},
                        headers=operator_headers)
    taken = httpx.post(f"{gateway}/api/v1/federations", json={"id": federation, "task": TASK},
                       headers=operator_headers)

    assert unknown.status_code == 422 and unknown.json()["detail"]["code"] == "unknown_task"
    assert bad_id.status_code == 422
    assert taken.status_code == 409


def test_rounds_open_from_1_in_order_and_the_same_model_again_is_idempotent(gateway, operator_headers):
    federation = _federation(gateway, operator_headers)

    skipped = _open(gateway, operator_headers, federation, 1, 2)
    first = _open(gateway, operator_headers, federation, 1, 1)
    again = _open(gateway, operator_headers, federation, 1, 1)
    other = _open(gateway, operator_headers, federation, 1, 1, dump_arrays(
        {k: v + 1.0 for k, v in get_task(TASK).initial_weights().items()}))
    no_run = _open(gateway, operator_headers, federation, 7, 1)

    assert skipped.status_code == 422 and "the next round is 1" in skipped.json()["detail"]["message"]
    assert first.status_code == 201 and first.json()["federation"] == federation and first.json()["run"] == 1
    assert again.status_code == 200
    assert other.status_code == 409
    assert no_run.status_code == 404


def test_the_same_round_opened_by_concurrent_requests_is_opened_once_and_never_a_500(gateway, operator_headers):
    # Found by fuzzing: both requests saw no round, both inserted, the second hit the unique index.
    federation = _federation(gateway, operator_headers)
    model = _model()

    with ThreadPoolExecutor(8) as pool:
        codes = sorted(pool.map(lambda _: _open(gateway, operator_headers, federation, 1, 1, model).status_code,
                                range(8)))

    assert codes == [200] * 7 + [201]


def test_hospitals_cannot_open_rounds_or_create_federations(gateway, operator_headers, new_hospital):
    hospital = new_hospital()
    federation = _federation(gateway, operator_headers)
    assert _open(gateway, hospital.headers, federation, 1, 1).status_code == 403
    assert httpx.post(f"{gateway}/api/v1/federations", json={"id": "mine", "task": TASK},
                      headers=hospital.headers).status_code == 403


def test_submissions_name_their_federation_and_default_to_its_newest_run(gateway, worker, operator_headers,
                                                                        new_hospital):
    federation = _federation(gateway, operator_headers)
    assert _open(gateway, operator_headers, federation, 1, 1).status_code == 201
    hospital = new_hospital()

    first = submit(gateway, hospital.headers, trained_update(centre="Hungary"), task=None, federation=federation)
    wrong_task = submit(gateway, hospital.headers, trained_update(centre="Hungary", seed=3), task="heart-logreg",
                        federation=federation)
    unknown = submit(gateway, hospital.headers, trained_update(centre="Hungary", seed=4), task=None,
                     federation="no-such-federation")
    closed_round = submit(gateway, hospital.headers, trained_update(centre="Hungary", seed=5), task=None,
                          federation=federation, round_=2)

    assert first.status_code == 201, first.text
    assert (first.json()["federation"], first.json()["run"], first.json()["task"]) == (federation, 1, TASK)
    assert wrong_task.status_code == 422 and wrong_task.json()["detail"]["code"] == "task_mismatch"
    assert unknown.status_code == 404
    assert closed_round.status_code == 422 and closed_round.json()["detail"]["code"] == "unknown_round"


def test_a_new_run_starts_at_round_1_and_shares_no_history_with_the_last(gateway, worker, operator_headers,
                                                                       new_hospital):
    federation = _federation(gateway, operator_headers)
    assert _open(gateway, operator_headers, federation, 1, 1).status_code == 201
    for seed, centre in enumerate(("Cleveland", "Hungary")):
        response = submit(gateway, new_hospital().headers, trained_update(centre=centre, seed=seed), task=None,
                          federation=federation)
        wait_recorded(gateway, operator_headers, response.json()["id"])

    started = httpx.post(f"{gateway}/api/v1/federations/{federation}/runs", headers=operator_headers)
    assert started.status_code == 201 and started.json() == {"run": 2, "rounds": [], "calibration_rounds": 0}
    assert _open(gateway, operator_headers, federation, 2, 1).status_code == 201
    response = submit(gateway, new_hospital().headers, trained_update(centre="Cleveland", seed=9), task=None,
                      federation=federation)
    body = wait_recorded(gateway, operator_headers, response.json()["id"])

    assert body["run"] == 2 and body["round"] == 1
    assert body["decision"]["features"]["n_peers"] == 0  # run 1's two updates of round 1 are not its peers
    listed = httpx.get(f"{gateway}/api/v1/federations/{federation}", headers=operator_headers).json()
    assert [(r["run"], r["rounds"]) for r in listed["runs"]] == [(1, [1]), (2, [1])]


def test_updates_of_a_calibration_round_are_accepted_and_say_what_the_detector_found(gateway, worker,
                                                                                    operator_headers, new_hospital):
    federation = _federation(gateway, operator_headers, calibration_rounds=1)
    assert _open(gateway, operator_headers, federation, 1, 1).status_code == 201
    for seed, centre in enumerate(("Cleveland", "Hungary")):
        submit(gateway, new_hospital().headers, trained_update(centre=centre, seed=seed), task=None,
               federation=federation)
    huge = trained_update(centre="Cleveland", steps=400, lr=0.5, seed=7)  # far outside anything honest
    response = submit(gateway, new_hospital().headers, huge, task=None, federation=federation)

    body = wait_recorded(gateway, operator_headers, response.json()["id"])

    assert body["verdict"] == "accepted"
    assert body["decision"]["features"]["calibration_round_verdict"] == "rejected"
    assert body["decision"]["score"] >= body["decision"]["threshold"]

"""Hostile and malformed requests through the real gateway: a clear 4xx, and nothing stored or run."""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np
import pytest
import redis
import torch
from sqlalchemy import func, select

from shared.celery_app import Queue
from shared.db import session_scope
from shared.models import Submission
from shared.modeltask.registry import get_task
from shared.settings import get_settings
from shared.tensors import dump_arrays
from tests.support import perturbed_update, submit, wait_recorded

CANARY = Path(os.environ["AURA_DATA_DIR"]) / "pickle-canary"


class _RunsCode:
    """Unpickling this creates the canary file: proof that a loader executed attacker code."""

    def __reduce__(self) -> tuple[Callable[..., object], tuple[str, str]]:
        return (os.system, (f"touch {CANARY}",))


def _weights() -> dict[str, np.ndarray]:
    return get_task("heart-mlp").initial_weights()


def _raw(header: dict[str, object], data: bytes) -> bytes:
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + data


def _overlapping() -> bytes:
    good = dump_arrays(_weights())
    n = struct.unpack("<Q", good[:8])[0]
    header = json.loads(good[8 : 8 + n])
    begin = header["hidden.weight"]["data_offsets"][0]
    header["hidden.bias"]["data_offsets"] = [begin, begin + 64]  # inside hidden.weight's bytes
    return _raw(header, good[8 + n :])


def _torch_zip() -> bytes:
    buffer = io.BytesIO()
    torch.save({k: torch.from_numpy(v) for k, v in _weights().items()}, buffer)
    return buffer.getvalue()


def _with(name: str, value: float) -> bytes:
    weights = _weights()
    weights[name] = weights[name].copy()
    weights[name].flat[0] = value
    return dump_arrays(weights)


def _header_too_long() -> bytes:
    return struct.pack("<Q", 10_000_000) + b"{" + b" " * 100


HOSTILE_FILES: dict[str, tuple[Callable[[], bytes], int, str]] = {
    # case: (bytes, expected status, code the gateway must name)
    "code_running_pickle": (lambda: pickle.dumps(_RunsCode()), 415, "pickle_refused"),
    "torch_save_zip": (_torch_zip, 415, "zip_refused"),
    "empty_file": (lambda: b"", 422, "empty_file"),
    "truncated_file": (lambda: dump_arrays(_weights())[:-10], 422, "truncated"),
    "header_length_past_end": (lambda: struct.pack("<Q", 4000) + b'{"a":1}', 422, "header_past_end"),
    "header_over_cap": (_header_too_long, 422, "header_too_large"),
    "header_not_json": (lambda: struct.pack("<Q", 8) + b"not json", 422, "header_not_json"),
    "overlapping_offsets": (_overlapping, 422, "overlapping_offsets"),
    "wrong_dtype_f64": (lambda: dump_arrays({**_weights(), "hidden.weight": np.zeros((16, 13), np.float64)}), 422,
                        "dtype_not_accepted"),
    "wrong_shape": (lambda: dump_arrays({**_weights(), "hidden.bias": np.zeros(15, np.float32)}), 422,
                    "shape_mismatch"),
    "extra_tensor": (lambda: dump_arrays({**_weights(), "backdoor": np.zeros(3, np.float32)}), 422,
                     "unexpected_tensor"),
    "missing_tensor": (lambda: dump_arrays({k: v for k, v in _weights().items() if k != "out.bias"}), 422,
                       "missing_tensor"),
    "nan_value": (lambda: _with("out.weight", float("nan")), 422, "non_finite"),
    "inf_value": (lambda: _with("hidden.bias", float("inf")), 422, "non_finite"),
    "oversize": (lambda: b"\0" * (get_settings().max_upload_bytes + 1), 413, "too_large"),
}


def _stored_blobs() -> int:
    root = get_settings().resolved_blob_dir
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def _queued_messages() -> int:
    client = redis.Redis.from_url(get_settings().resolved_broker_url)
    return sum(int(client.llen(q.value)) for q in Queue)  # type: ignore[arg-type]


def _submissions_of(hospital_id: str) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).where(Submission.hospital_id == hospital_id)) or 0


@pytest.mark.parametrize("case", sorted(HOSTILE_FILES))
def test_hostile_file_gets_a_4xx_naming_the_problem_and_nothing_is_stored(case, gateway, new_hospital):
    make, expected_status, expected_code = HOSTILE_FILES[case]
    hospital = new_hospital()
    blobs_before = _stored_blobs()

    response = submit(gateway, hospital.headers, make())

    assert response.status_code == expected_status, response.text
    detail = response.json()["detail"]
    assert detail["code"] == expected_code
    assert len(detail["message"]) > 10
    assert _submissions_of(hospital.id) == 0
    assert _stored_blobs() == blobs_before
    assert _queued_messages() == 0  # no chain was sent, so no worker can run
    assert not CANARY.exists(), "the pickle's code ran"


def test_unknown_task_is_refused_by_name(gateway, new_hospital):
    hospital = new_hospital()
    response = submit(gateway, hospital.headers, perturbed_update(), task="mnist-cnn")
    assert response.status_code == 422
    assert "mnist-cnn" in response.json()["detail"]["message"]
    assert _submissions_of(hospital.id) == 0


def test_round_that_is_not_open_is_refused(gateway, new_hospital):
    hospital = new_hospital()
    response = submit(gateway, hospital.headers, perturbed_update(), round_=999)
    assert response.status_code == 422
    assert response.json()["detail"]["code"] == "unknown_round"
    assert "999" in response.json()["detail"]["message"]


def test_upload_without_a_key_is_unauthorized(gateway):
    response = submit(gateway, {}, perturbed_update())
    assert response.status_code == 401
    assert "missing API key" in response.json()["detail"]


def test_upload_with_an_unknown_key_is_unauthorized(gateway):
    response = submit(gateway, {"X-API-Key": "aura_not-a-real-key"}, perturbed_update())
    assert response.status_code == 401
    assert "unknown or revoked" in response.json()["detail"]


def test_operator_key_cannot_submit_updates(gateway, operator_headers):
    response = submit(gateway, operator_headers, perturbed_update())
    assert response.status_code == 403


def test_hospital_cannot_read_another_hospitals_submission(gateway, worker, new_hospital):
    owner, other = new_hospital(), new_hospital()
    created = submit(gateway, owner.headers, perturbed_update(seed=3)).json()

    response = httpx.get(f"{gateway}/api/v1/submissions/{created['id']}", headers=other.headers)

    assert response.status_code == 404
    assert created["id"] in response.json()["detail"]
    listed = httpx.get(f"{gateway}/api/v1/submissions", headers=other.headers).json()
    assert listed["total"] == 0
    wait_recorded(gateway, owner.headers, created["id"])  # the owner still sees it through


def test_same_file_again_returns_the_existing_submission(gateway, worker, new_hospital):
    hospital = new_hospital()
    data = perturbed_update(seed=4)
    first = submit(gateway, hospital.headers, data)
    second = submit(gateway, hospital.headers, data)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert _submissions_of(hospital.id) == 1


def test_different_file_for_a_decided_round_is_a_conflict_and_changes_nothing(gateway, worker, new_hospital,
                                                                              operator_headers):
    hospital = new_hospital()
    first = submit(gateway, hospital.headers, perturbed_update(seed=5)).json()
    decided = wait_recorded(gateway, operator_headers, first["id"])
    blobs_before = _stored_blobs()

    response = submit(gateway, hospital.headers, perturbed_update(seed=6))

    assert response.status_code == 409
    assert _stored_blobs() == blobs_before
    assert first["id"] in response.json()["detail"]["message"]
    after = httpx.get(f"{gateway}/api/v1/submissions/{first['id']}", headers=operator_headers).json()
    assert after["tensor_sha256"] == decided["tensor_sha256"]
    assert after["verdict"] == decided["verdict"]

"""Every endpoint x every kind of caller: admin, operator, the hospital that owns the data, another hospital,
no key, a bad key. The table below is the access rule as a user sees it; an endpoint missing from it fails."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from services.gateway.app import create_app
from tests.conftest import OPERATOR_KEY
from tests.support import perturbed_update, submit

pytestmark = pytest.mark.integration

PUBLIC, KEYS, STAFF, ADMIN, HOSPITALS, OWNER = "public", "keys", "staff", "admin", "hospitals", "owner"
# Who may call each operation: PUBLIC anyone; KEYS any valid key (a hospital sees its own rows);
# STAFF operators and admins; ADMIN admins; HOSPITALS hospital keys only; OWNER staff and the
# hospital whose resource it is (another hospital gets 404, as for a missing one: ids are no oracle).
ACCESS: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/health"): PUBLIC,
    ("GET", "/api/v1/ready"): PUBLIC,
    ("POST", "/api/v1/submissions"): HOSPITALS,
    ("GET", "/api/v1/submissions"): KEYS,
    ("GET", "/api/v1/submissions/{submission_id}"): OWNER,
    ("GET", "/api/v1/submissions/{submission_id}/receipt"): OWNER,
    ("GET", "/api/v1/ledger/entries"): KEYS,
    ("GET", "/api/v1/ledger/entries/{index}"): KEYS,
    ("GET", "/api/v1/ledger/checkpoint"): KEYS,
    ("GET", "/api/v1/ledger/key"): KEYS,
    ("GET", "/api/v1/ledger/proofs/inclusion"): KEYS,
    ("GET", "/api/v1/ledger/proofs/consistency"): KEYS,
    ("GET", "/api/v1/ledger/stats"): KEYS,
    ("POST", "/api/v1/ledger/verify"): KEYS,
    ("GET", "/api/v1/tasks"): KEYS,
    ("POST", "/api/v1/tasks/{task}/rounds/{round_}"): STAFF,
    ("GET", "/api/v1/federations"): KEYS,
    ("POST", "/api/v1/federations"): STAFF,
    ("GET", "/api/v1/federations/{federation_id}"): KEYS,
    ("POST", "/api/v1/federations/{federation_id}/runs"): STAFF,
    ("POST", "/api/v1/federations/{federation_id}/runs/{run}/rounds/{round_}"): STAFF,
    ("GET", "/api/v1/federations/{federation_id}/calibrations"): KEYS,
    ("POST", "/api/v1/federations/{federation_id}/calibrations"): STAFF,
    ("GET", "/api/v1/hospitals"): KEYS,
    ("POST", "/api/v1/hospitals"): ADMIN,
    ("GET", "/api/v1/hospitals/{hospital_id}"): OWNER,
    ("GET", "/api/v1/hospitals/{hospital_id}/signing-keys"): OWNER,
    ("POST", "/api/v1/hospitals/{hospital_id}/signing-keys"): ADMIN,
    ("DELETE", "/api/v1/hospitals/{hospital_id}/signing-keys/{signing_key}"): ADMIN,
    ("PATCH", "/api/v1/federations/{federation_id}"): STAFF,
    ("POST", "/api/v1/runs"): STAFF,
    ("GET", "/api/v1/runs"): STAFF,
    ("GET", "/api/v1/runs/{run_id}"): STAFF,
    ("GET", "/api/v1/runs/{run_id}/model"): STAFF,
    ("GET", "/api/v1/me"): KEYS,
    ("GET", "/api/v1/keys"): ADMIN,
    ("POST", "/api/v1/keys"): ADMIN,
    ("DELETE", "/api/v1/keys/{key_id}"): ADMIN,
    ("GET", "/api/v1/stats/summary"): KEYS,
    ("GET", "/api/v1/analytics/daily"): KEYS,
    ("GET", "/api/v1/analytics/attacks"): KEYS,
    ("GET", "/api/v1/analytics/scores"): KEYS,
    ("GET", "/api/v1/security/summary"): STAFF,
    ("GET", "/api/v1/workers"): STAFF,
    ("GET", "/api/v1/datasets"): STAFF,
    ("GET", "/api/v1/datasets/{task}"): STAFF,
    ("GET", "/api/v1/hospitals/{hospital_id}/history"): OWNER,
}
CALLERS = ("admin", "operator", "owner", "other", "none", "bad")


def _allowed(rule: str, caller: str) -> bool:
    return {PUBLIC: True, KEYS: caller in ("admin", "operator", "owner", "other"),
            STAFF: caller in ("admin", "operator"), ADMIN: caller == "admin",
            HOSPITALS: caller in ("owner", "other"), OWNER: caller in ("admin", "operator", "owner")}[rule]


def test_the_table_names_every_operation_of_the_api():
    operations = {(m.upper(), p) for p, ops in create_app().openapi()["paths"].items() for m in ops}

    assert operations == set(ACCESS)


@pytest.fixture(scope="module")
def world(gateway: str) -> dict[str, Any]:
    from fl.enrol import operator_key
    from services.gateway.auth import add_hospital
    from shared.db import session_scope

    with session_scope() as session:
        owner, other = (f"h-{uuid.uuid4().hex[:8]}" for _ in range(2))
        keys = {h: add_hospital(session, h, h) for h in (owner, other)}
    headers = {h: {"X-API-Key": k} for h, k in keys.items()}
    # Calls the table allows change things (a new run of the federation): they go to one of the test's own.
    federation = f"matrix-{uuid.uuid4().hex[:8]}"
    created = httpx.post(f"{gateway}/api/v1/federations", json={"id": federation, "task": "heart-mlp"},
                         headers={"X-API-Key": OPERATOR_KEY}, timeout=30)
    assert created.status_code == 201, created.text
    response = submit(gateway, headers[owner], perturbed_update(seed=90), round_=1)
    assert response.status_code in (200, 201), response.text
    return {
        "update": perturbed_update(seed=91),
        "headers": {"admin": {"X-API-Key": OPERATOR_KEY}, "operator": {"X-API-Key": operator_key()},
                    "owner": headers[owner], "other": headers[other], "none": {}, "bad": {"X-API-Key": "aura_nope"}},
        "params": {"submission_id": response.json()["id"], "hospital_id": owner, "index": "0",
                   "task": "heart-mlp", "round_": "1", "federation_id": federation, "run": "1",
                   "run_id": "00000000-0000-4000-8000-000000000000", "key_id": "2147483000",
                   "signing_key": "0123456789abcdef"},
    }


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "path"), sorted(ACCESS), ids=[f"{m} {p}" for m, p in sorted(ACCESS)])
def test_each_caller_gets_what_the_table_says(gateway, world, method, path, caller):
    url = gateway + path.format(**world["params"])
    query = {"index": 0, "from": 0} if "proofs" in path else {}
    # A well-formed upload, so a refusal can only be about who calls, not what was sent.
    upload = {"files": {"file": ("u.safetensors", world["update"])}, "data": {"task": "heart-mlp", "round": "1"}} \
        if (method, path) == ("POST", "/api/v1/submissions") else {}
    response = httpx.request(method, url, headers=world["headers"][caller], params=query, timeout=30, **upload)
    rule = ACCESS[(method, path)]

    assert response.status_code < 500, response.text
    if _allowed(rule, caller):
        assert response.status_code not in (401, 403), f"{caller} refused: {response.text}"
    elif caller in ("none", "bad"):
        assert response.status_code == 401
    elif rule == OWNER:  # another hospital's resource answers as a missing one
        assert response.status_code in (403, 404)
    else:
        assert response.status_code == 403

"""Signed submissions over HTTP: registered keys, federations that require signatures, refusals by cause."""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from fl.sdk import AuraClient, AuraError
from shared.db import session_scope
from shared.models import LedgerEntry, Submission
from shared.modeltask.registry import get_task
from shared.signing import (
    HEADER,
    Signed,
    b64url_decode,
    key_id,
    new_nonce,
    parse_public_key,
    public_text,
    sign,
    verifies,
)
from shared.tensors import dump_arrays
from tests.conftest import HospitalKey
from tests.support import perturbed_update, submit, wait_recorded

pytestmark = pytest.mark.integration
TASK = "heart-mlp"


def _federation(gateway: str, operator_headers: dict[str, str], *, required: bool) -> str:
    federation = f"signed-{uuid.uuid4().hex[:8]}"
    with AuraClient(gateway, operator_headers["X-API-Key"]) as operator:
        created = operator.create_federation(federation, TASK, require_signatures=required)
        assert created["require_signatures"] is required
        operator.open_federation_round(federation, 1, 1, dump_arrays(get_task(TASK).initial_weights()))
    return federation


def _registered(gateway: str, operator_headers: dict[str, str], hospital: HospitalKey) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    with AuraClient(gateway, operator_headers["X-API-Key"]) as admin:
        row = admin.register_signing_key(hospital.id, public_text(key.public_key()))
    assert row["key_id"] == key_id(key.public_key()) and row["revoked_at"] is None
    return key


def _header(key: Ed25519PrivateKey, hospital: str, federation: str, data: bytes, *, round_: int = 1,
            signed_at: int | None = None) -> dict[str, str]:
    signed = Signed(hospital=hospital, federation=federation, task=None, run=None, round=round_,
                    sha256=hashlib.sha256(data).hexdigest(), signed_at=signed_at or int(time.time()), nonce=new_nonce())
    return {HEADER: sign(key, signed)}


def _refusal(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["detail"]["code"]


def _count(hospital: str) -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).where(Submission.hospital_id == hospital)) or 0)


def test_a_signed_update_is_accepted_and_its_ledger_entry_carries_a_signature_anyone_can_check(
        gateway, worker, new_hospital, operator_headers):
    federation, hospital = _federation(gateway, operator_headers, required=True), new_hospital()
    key = _registered(gateway, operator_headers, hospital)

    with AuraClient(gateway, hospital.key, signing_key=key) as client:  # the SDK asks the gateway who it is
        body = client.submit(perturbed_update(seed=3), federation=federation, round=1)

    assert body["signature"]["verified"] is True and body["signature"]["key"] == key_id(key.public_key())
    wait_recorded(gateway, hospital.headers, body["id"])
    with session_scope() as session:
        entry = json.loads(session.scalar(select(LedgerEntry.entry).where(LedgerEntry.submission_id == body["id"])))
    assert entry["v"] == 3 and entry["signature"]["verified"] is True
    # An auditor with the hospital's public key checks the signature from the entry alone.
    signed = Signed(**entry["signature"]["signed"])
    assert signed.sha256 == entry["file_sha256"] and signed.hospital == entry["hospital"] == hospital.id
    registered = httpx.get(f"{gateway}/api/v1/hospitals/{hospital.id}/signing-keys", headers=hospital.headers).json()
    public = parse_public_key(registered[0]["public_key"])
    assert verifies(public, b64url_decode(entry["signature"]["sig"]), signed)


def test_a_federation_that_requires_signatures_refuses_what_is_unsigned_stale_replayed_or_wrong(
        gateway, new_hospital, operator_headers):
    federation, hospital, other = _federation(gateway, operator_headers, required=True), new_hospital(), new_hospital()
    key = _registered(gateway, operator_headers, hospital)
    others_key = _registered(gateway, operator_headers, other)
    data = perturbed_update(seed=4)

    def send(headers: dict[str, str], payload: bytes = data) -> httpx.Response:
        return submit(gateway, hospital.headers | headers, payload, task=None, round_=1, federation=federation)

    assert _refusal(send({})) == (403, "signature_required")
    assert _refusal(send(_header(key, hospital.id, federation, data, signed_at=int(time.time()) - 3600))) == \
        (403, "stale_signature")
    assert _refusal(send(_header(key, hospital.id, federation, perturbed_update(seed=5)))) == (403, "bad_signature")
    assert _refusal(send(_header(key, hospital.id, federation, data, round_=2))) == (403, "bad_signature")
    assert _refusal(send(_header(others_key, hospital.id, federation, data))) == (403, "unknown_signing_key")
    assert _refusal(send({HEADER: "key=nothex"})) == (422, "bad_signature_header")
    assert _count(hospital.id) == 0

    signed = _header(key, hospital.id, federation, data)
    assert send(signed).status_code == 201
    assert _refusal(send(signed)) == (403, "replayed_signature")  # the same signed request, captured and sent again
    assert _count(hospital.id) == 1


def test_a_revoked_key_signs_nothing_more_and_a_federation_can_start_requiring_signatures(
        gateway, new_hospital, operator_headers):
    federation, hospital = _federation(gateway, operator_headers, required=False), new_hospital()
    key = _registered(gateway, operator_headers, hospital)
    data = perturbed_update(seed=6)

    unsigned = submit(gateway, hospital.headers, data, task=None, round_=1, federation=federation)
    assert unsigned.status_code == 201 and unsigned.json()["signature"] is None
    # A signature sent where none is required is still checked: a wrong one is never ignored.
    wrong = submit(gateway, hospital.headers | _header(key, hospital.id, federation, b"other"), data, task=None,
                   round_=1, federation=federation)
    assert _refusal(wrong) == (403, "bad_signature")

    patched = httpx.patch(f"{gateway}/api/v1/federations/{federation}", json={"require_signatures": True},
                          headers=operator_headers)
    assert patched.status_code == 200 and patched.json()["require_signatures"] is True
    revoked = httpx.delete(f"{gateway}/api/v1/hospitals/{hospital.id}/signing-keys/{key_id(key.public_key())}",
                           headers=operator_headers)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    with AuraClient(gateway, hospital.key, signing_key=key, hospital=hospital.id) as client, \
            pytest.raises(AuraError) as refused:
        client.submit(perturbed_update(seed=7), federation=federation, round=1)
    assert (refused.value.status, refused.value.code) == (403, "revoked_signing_key")


def test_only_an_admin_registers_keys_and_a_bad_or_taken_key_is_refused(gateway, new_hospital, operator_headers):
    hospital, other = new_hospital(), new_hospital()
    url = f"{gateway}/api/v1/hospitals/{hospital.id}/signing-keys"
    public = public_text(Ed25519PrivateKey.generate().public_key())

    assert httpx.post(url, json={"public_key": public}, headers=hospital.headers).status_code == 403
    assert _refusal(httpx.post(url, json={"public_key": "c2hvcnQ="}, headers=operator_headers)) == \
        (422, "bad_public_key")
    assert httpx.post(url, json={"public_key": public}, headers=operator_headers).status_code == 201
    assert _refusal(httpx.post(url, json={"public_key": public}, headers=operator_headers)) == (409, "exists")
    assert _refusal(httpx.post(f"{gateway}/api/v1/hospitals/h-none-{uuid.uuid4().hex[:6]}/signing-keys",
                               json={"public_key": public_text(Ed25519PrivateKey.generate().public_key())},
                               headers=operator_headers)) == (404, "unknown_hospital")
    # A hospital reads its own keys; another hospital's are not there for it.
    assert len(httpx.get(url, headers=hospital.headers).json()) == 1
    assert httpx.get(url, headers=other.headers).status_code == 404

"""The Idempotency-Key header on submissions, over HTTP against the real gateway and database."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.intake.idempotency import BadIdempotencyKey, parse_header
from shared.db import session_scope
from shared.models import IdempotencyKey, Submission, utcnow
from tests.support import perturbed_update, submit


def _key() -> str:
    return f'"{uuid.uuid4()}"'


def test_the_same_key_and_request_again_returns_the_first_response(gateway, new_hospital, new_round):
    hospital, round_, key = new_hospital(), new_round(), _key()
    headers = hospital.headers | {"Idempotency-Key": key}

    first = submit(gateway, headers, perturbed_update(seed=1), round_=round_)
    again = submit(gateway, headers, perturbed_update(seed=1), round_=round_)

    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    with session_scope() as session:
        assert session.get(Submission, first.json()["id"]).idempotency_key == key.strip('"')


@pytest.mark.parametrize("change", ["file", "round"])
def test_the_same_key_with_another_request_is_422(gateway, new_hospital, new_round, change):
    hospital, round_, key = new_hospital(), new_round(), _key()
    headers = hospital.headers | {"Idempotency-Key": key}
    assert submit(gateway, headers, perturbed_update(seed=1), round_=round_).status_code == 201

    other = submit(gateway, headers, perturbed_update(seed=2 if change == "file" else 1),
                   round_=new_round() if change == "round" else round_)

    assert other.status_code == 422 and other.json()["detail"]["code"] == "idempotency_key_reused"


def test_the_same_key_while_the_first_request_is_in_flight_is_409_with_retry_after(gateway, new_hospital, new_round):
    hospital, round_, key = new_hospital(), new_round(), str(uuid.uuid4())
    with session_scope() as session:  # what a request being processed holds
        session.add(IdempotencyKey(hospital_id=hospital.id, key=key))

    busy = submit(gateway, hospital.headers | {"Idempotency-Key": f'"{key}"'}, perturbed_update(), round_=round_)

    assert busy.status_code == 409 and busy.headers["Retry-After"] == "1"
    assert busy.json()["detail"]["code"] == "idempotency_key_in_flight"


def test_a_claim_abandoned_by_a_dead_request_is_taken_over(gateway, new_hospital, new_round):
    hospital, round_, key = new_hospital(), new_round(), str(uuid.uuid4())
    with session_scope() as session:
        session.add(IdempotencyKey(hospital_id=hospital.id, key=key, claimed_at=utcnow() - timedelta(hours=2)))

    response = submit(gateway, hospital.headers | {"Idempotency-Key": f'"{key}"'}, perturbed_update(), round_=round_)

    assert response.status_code == 201, response.text


def test_a_refused_request_does_not_use_up_its_key(gateway, new_hospital, new_round):
    hospital, round_, key = new_hospital(), new_round(), _key()
    headers = hospital.headers | {"Idempotency-Key": key}

    refused = submit(gateway, headers, b"not a safetensors file", round_=round_)
    corrected = submit(gateway, headers, perturbed_update(), round_=round_)

    assert refused.status_code == 422 and corrected.status_code == 201


def test_keys_belong_to_their_hospital(gateway, new_hospital, new_round):
    round_, key = new_round(), _key()
    first = submit(gateway, new_hospital().headers | {"Idempotency-Key": key}, perturbed_update(seed=1), round_=round_)
    second = submit(gateway, new_hospital().headers | {"Idempotency-Key": key}, perturbed_update(seed=2), round_=round_)

    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]


def test_a_malformed_key_is_422(gateway, new_hospital, new_round):
    response = submit(gateway, new_hospital().headers | {"Idempotency-Key": '"unterminated'}, perturbed_update(),
                      round_=new_round())

    assert response.status_code == 422 and response.json()["detail"]["code"] == "bad_idempotency_key"


@pytest.mark.parametrize(("header", "key"), [('"abc"', "abc"), ('"a\\"b\\\\c"', 'a"b\\c'), ("bare-token", "bare-token"),
                                             ('  "padded"  ', "padded")])
def test_the_header_is_a_structured_field_string_or_a_bare_token(header, key):
    assert parse_header(header) == key


@pytest.mark.parametrize("header", ['""', '"x', '"tab\there"', "a" * 201, '"a"b"'])
def test_malformed_headers_are_refused(header):
    with pytest.raises(BadIdempotencyKey):
        parse_header(header)

"""Who-am-I and admin key management over HTTP against the real gateway."""

from __future__ import annotations

import httpx


def test_me_names_the_admin_role_for_the_operator_key(gateway, operator_headers):
    body = httpx.get(f"{gateway}/api/v1/me", headers=operator_headers).json()

    assert body == {"role": "admin", "hospital_id": None, "hospital_name": None}


def test_me_names_the_hospital_for_a_hospital_key(gateway, new_hospital):
    hospital = new_hospital()

    body = httpx.get(f"{gateway}/api/v1/me", headers=hospital.headers).json()

    assert body["role"] == "hospital" and body["hospital_id"] == hospital.id


def test_issued_key_works_until_revoked(gateway, new_hospital, operator_headers):
    hospital = new_hospital()
    issued = httpx.post(f"{gateway}/api/v1/keys", headers=operator_headers,
                        json={"role": "hospital", "hospital_id": hospital.id})
    assert issued.status_code == 201, issued.text
    headers = {"X-API-Key": issued.json()["api_key"]}
    assert httpx.get(f"{gateway}/api/v1/me", headers=headers).json()["hospital_id"] == hospital.id

    revoked = httpx.delete(f"{gateway}/api/v1/keys/{issued.json()['id']}", headers=operator_headers)

    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert httpx.get(f"{gateway}/api/v1/me", headers=headers).status_code == 401
    listed = httpx.get(f"{gateway}/api/v1/keys", params={"hospital": hospital.id}, headers=operator_headers).json()
    assert {k["id"] for k in listed if k["revoked_at"]} == {issued.json()["id"]}
    assert all("api_key" not in k for k in listed)


def test_hospital_key_without_hospital_is_refused(gateway, operator_headers):
    response = httpx.post(f"{gateway}/api/v1/keys", headers=operator_headers, json={"role": "hospital"})

    assert response.status_code == 422


def test_hospital_key_cannot_manage_keys(gateway, new_hospital):
    hospital = new_hospital()

    assert httpx.get(f"{gateway}/api/v1/keys", headers=hospital.headers).status_code == 403
    assert httpx.post(f"{gateway}/api/v1/keys", headers=hospital.headers, json={"role": "admin"}).status_code == 403


def test_an_admin_registers_a_hospital_with_its_data_centre_and_an_unknown_centre_is_refused(gateway, operator_headers):
    import uuid

    from shared.db import session_scope
    from shared.models import Hospital

    hospital_id = f"h-centre-{uuid.uuid4().hex[:8]}"
    refused = httpx.post(f"{gateway}/api/v1/hospitals", headers=operator_headers,
                         json={"id": hospital_id, "name": "Basel", "centre": "Atlantis"})
    created = httpx.post(f"{gateway}/api/v1/hospitals", headers=operator_headers,
                         json={"id": hospital_id, "name": "Basel", "centre": "Switzerland"})

    assert refused.status_code == 422 and "unknown centre 'Atlantis'" in refused.text and "Switzerland" in refused.text
    assert created.status_code == 201, created.text
    assert created.json()["centre"] == "Switzerland"
    with session_scope() as session:
        row = session.get(Hospital, hospital_id)
        assert row is not None and row.centre == "Switzerland"


def test_tasks_name_the_centres_a_hospital_may_be_registered_with(gateway, operator_headers):
    tasks = {t["name"]: t for t in httpx.get(f"{gateway}/api/v1/tasks", headers=operator_headers).json()}

    assert tasks["heart-mlp"]["centres"] == ["Cleveland", "Hungary", "Switzerland", "VA Long Beach"]

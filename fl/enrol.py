"""Issuing the keys a federated run uses, on the AURA host (as `aura hospitals add` does).

Every run gets fresh keys: a hospital that already exists keeps its id, history and keys and
receives one more, which names the run it serves (`purpose`, listed by GET /api/v1/keys), so no
hospital is re-keyed silently; `revoke` retires the run's keys when it ends, so none outlives it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from fl.task import Hospital, hospital_id
from services.gateway.auth import add_hospital, hash_key, issue_key
from shared.db import session_scope
from shared.models import ApiKey, Role, utcnow
from shared.models import Hospital as HospitalRow


def display_name(hospital: Hospital) -> str:
    """The name the dashboard shows: the centre, with the part number when a centre is split."""
    if hospital.name == hospital_id(hospital.centre):
        return hospital.centre
    return f"{hospital.centre} {hospital.name.rsplit('-', 1)[-1]}"


def enrol(hospitals: Iterable[Hospital], purpose: str = "a federated run") -> dict[str, str]:
    """A fresh API key per hospital, naming `purpose` (registering the hospitals AURA does not know yet)."""
    keys: dict[str, str] = {}
    with session_scope() as session:
        for hospital in hospitals:
            if session.get(HospitalRow, hospital.name) is None:
                keys[hospital.name] = add_hospital(session, hospital.name, display_name(hospital), hospital.centre,
                                                   purpose=purpose)
            else:
                keys[hospital.name] = issue_key(session, Role.HOSPITAL, hospital.name, purpose=purpose)
    return keys


def operator_key(purpose: str = "a federated run") -> str:
    """A fresh operator key (reads everything, opens rounds; cannot manage hospitals)."""
    with session_scope() as session:
        return issue_key(session, Role.OPERATOR, purpose=purpose)


def revoke(keys: Iterable[str]) -> None:
    """Retire these keys."""
    hashes = [hash_key(k) for k in keys]
    with session_scope() as session:
        for row in session.scalars(select(ApiKey).where(ApiKey.key_sha256.in_(hashes))):
            row.revoked_at = utcnow()

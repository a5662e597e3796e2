"""One small federation round for the dashboard API tests: two honest updates and a scaled attack."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from services.gateway.auth import add_hospital
from shared.db import session_scope
from tests.support import perturbed_update, submit, trained_update, wait_recorded


@dataclass(frozen=True)
class Member:
    """A hospital of the scenario, its key and its round-1 submission."""

    id: str
    key: str
    submission_id: str

    @property
    def headers(self) -> dict[str, str]:
        """Auth headers for this hospital."""
        return {"X-API-Key": self.key}


@dataclass(frozen=True)
class Scenario:
    """The honest members and the attacker, all recorded in the ledger."""

    honest: tuple[Member, ...]
    attacker: Member
    attacker_signal: str  # the first-ranked reason the detector gave for rejecting the attack


def _register() -> tuple[str, str]:
    hospital_id = f"h-{uuid.uuid4().hex[:8]}"
    with session_scope() as session:
        return hospital_id, add_hospital(session, hospital_id, f"Hospital {hospital_id}")


def run_scenario(gateway: str, operator_headers: dict[str, str]) -> Scenario:
    """Submit two honest updates and one 5x-noise attack, and wait until all three are recorded."""
    members = []
    for i, update in enumerate((trained_update(seed=1), trained_update(seed=2), perturbed_update(seed=9, scale=5.0))):
        hospital_id, key = _register()
        response = submit(gateway, {"X-API-Key": key}, update)
        assert response.status_code == 201, response.text
        members.append(Member(hospital_id, key, response.json()["id"]))
        if i < 2:  # honest peers first, so the attack is judged against them
            wait_recorded(gateway, operator_headers, members[-1].submission_id)
    attack = wait_recorded(gateway, operator_headers, members[-1].submission_id)
    assert attack["verdict"] == "rejected", attack["decision"]
    return Scenario(honest=tuple(members[:2]), attacker=members[2],
                    attacker_signal=attack["decision"]["reasons"][0]["signal"])

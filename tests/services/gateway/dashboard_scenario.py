"""One small federation round for the dashboard API tests: two honest updates and a scaled attack."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text

from services.gateway.auth import add_hospital
from shared.db import session_scope
from shared.federations import Scope, next_round
from shared.modeltask.registry import get_task
from shared.weights import register_global
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

    round: int
    honest: tuple[Member, ...]
    attacker: Member
    attacker_signal: str  # the first-ranked reason the detector gave for rejecting the attack


def _register() -> tuple[str, str]:
    hospital_id = f"h-{uuid.uuid4().hex[:8]}"
    with session_scope() as session:
        return hospital_id, add_hospital(session, hospital_id, f"Hospital {hospital_id}")


def _fresh_round(task: str = "heart-mlp") -> int:
    # The scenario's own round, so other tests' updates are not its peers (conftest's `new_round`
    # does the same but is function-scoped, and the scenario is built once per session).
    with session_scope() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(4242)"))
        round_ = next_round(session, Scope(task, 1))
        register_global(session, task, round_, get_task(task).initial_weights())
    return round_


def run_scenario(gateway: str, operator_headers: dict[str, str]) -> Scenario:
    """Submit two honest updates and one 5x-noise attack, and wait until all three are recorded."""
    members = []
    round_ = _fresh_round()
    for i, update in enumerate((trained_update(seed=1), trained_update(seed=2), perturbed_update(seed=9, scale=5.0))):
        hospital_id, key = _register()
        response = submit(gateway, {"X-API-Key": key}, update, round_=round_)
        assert response.status_code == 201, response.text
        members.append(Member(hospital_id, key, response.json()["id"]))
        if i < 2:  # honest peers first, so the attack is judged against them
            wait_recorded(gateway, operator_headers, members[-1].submission_id)
    attack = wait_recorded(gateway, operator_headers, members[-1].submission_id)
    assert attack["verdict"] == "rejected", attack["decision"]
    honest = [wait_recorded(gateway, operator_headers, m.submission_id) for m in members[:2]]
    assert all(h["verdict"] == "accepted" for h in honest), [h["decision"] for h in honest]
    return Scenario(round=round_, honest=tuple(members[:2]), attacker=members[2],
                    attacker_signal=attack["decision"]["reasons"][0]["signal"])

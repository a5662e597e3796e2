"""A short Fed-Heart-Disease federation vetted end to end by the real gateway and Celery worker."""

from __future__ import annotations

import httpx
import pytest

from fl.config import AttackSpec, FederationConfig
from fl.enrol import enrol, operator_key
from fl.federation import AuraLink
from fl.runners import run

pytestmark = pytest.mark.integration


def test_attackers_updates_are_rejected_and_honest_ones_accepted_every_round(gateway, worker, operator_headers):
    # Model replacement (Bagdasaryan et al.: a backdoored model boosted by n) from the hospital
    # that submits last in each round, after all the honest ones.
    attacker = "va-long-beach"
    config = FederationConfig(rounds=2, local_steps=20, attacks=(AttackSpec(attacker, "scaling"),))
    link = AuraLink(gateway, operator_key(), enrol(config.hospitals))

    vetted = run(config, runner="inprocess", aura=link)
    plain = run(config, runner="inprocess")

    for result in vetted.rounds:
        verdicts = {v["hospital"]: v["verdict"] for v in result.verdicts}
        explained = [f"{v['hospital']}: {v['verdict']} ({v['reason']})" for v in result.verdicts]
        assert verdicts.pop(attacker) == "rejected", explained
        assert set(verdicts.values()) == {"accepted"}, explained
        assert attacker not in result.accepted
    assert vetted.final_metrics["backdoor_asr"] < plain.final_metrics["backdoor_asr"]
    submission = vetted.rounds[0].verdicts[0]["submission_id"]
    body = httpx.get(f"{gateway}/api/v1/submissions/{submission}", headers=operator_headers, timeout=10).json()
    assert body["status"] == "recorded" and body["ledger_index"] is not None

"""A real Flower deployment (SuperLink + one SuperNode per hospital, over loopback) vetted by AURA."""

from __future__ import annotations

import numpy as np
import pytest

from fl.config import AttackSpec, FederationConfig
from fl.enrol import enrol, operator_key
from fl.federation import AuraLink
from fl.runners import run
from fl.runners.deployment import run_deployment

pytestmark = pytest.mark.integration


def test_deployed_federation_is_vetted_and_matches_the_in_process_runner(gateway, worker, tmp_path):
    config = FederationConfig(rounds=1, local_steps=10, attacks=(AttackSpec("switzerland", "scaling"),))
    link = AuraLink(gateway, operator_key(), enrol(config.hospitals))

    deployed = run_deployment(config, tmp_path / "deployment", aura=link, timeout=300)
    in_process = run(config, runner="inprocess", aura=link)

    verdicts = {v["hospital"]: v["verdict"] for v in deployed.rounds[0].verdicts}
    assert verdicts == {"cleveland": "accepted", "hungary": "accepted", "switzerland": "rejected",
                        "va-long-beach": "accepted"}, deployed.rounds[0].verdicts
    assert (tmp_path / "deployment" / "superlink.log").exists()
    assert len(list((tmp_path / "deployment").glob("supernode-*.log"))) == 4
    for name, weights in in_process.final_weights.items():
        np.testing.assert_array_equal(deployed.final_weights[name], weights)

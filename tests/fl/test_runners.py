"""The runners give the same numbers, and omniscient attackers get their second message in each."""

from __future__ import annotations

import numpy as np
import pytest

from fl.attacks.base import delta
from fl.config import AttackSpec, FederationConfig
from fl.runners import run
from fl.task import initial_weights, rng_for, train_local


def test_an_omniscient_attacker_crafts_its_update_from_the_rounds_benign_updates():
    config = FederationConfig(rounds=1, local_steps=10, attacks=(AttackSpec("hungary", "ipm", {"epsilon": 100.0}),))

    attacked = run(config, runner="inprocess")
    clean = run(config.without_attacks(), runner="inprocess")

    # One FedAvg round: replacing Hungary's honest update u_h by IPM's -eps * mean(benign) moves
    # the global model by share_h * (-eps * mean(benign) - u_h).
    start = initial_weights(config.task, config.seed)
    updates = {h.name: delta(train_local(config.task, start, h.train, steps=10, batch_size=4, lr=config.lr,
                                         rng=rng_for(config.seed, 1, h.name))[0], start) for h in config.hospitals}
    sizes = {h.name: len(h.train) for h in config.hospitals}
    benign = np.mean([u for name, u in updates.items() if name != "hungary"], axis=0)
    expected = sizes["hungary"] / sum(sizes.values()) * (-100.0 * benign - updates["hungary"])
    moved = delta(attacked.final_weights, start) - delta(clean.final_weights, start)
    np.testing.assert_allclose(moved, expected, atol=1e-5)


@pytest.mark.slow
def test_in_process_runner_matches_flowers_simulation_engine():
    config = FederationConfig(rounds=2, local_steps=15, seed=43,
                              attacks=(AttackSpec("switzerland", "min-max"), AttackSpec("cleveland", "sign-flip")))

    in_process = run(config, runner="inprocess")
    simulated = run(config, runner="simulation")

    for name, weights in in_process.final_weights.items():
        np.testing.assert_array_equal(weights, simulated.final_weights[name])
    assert in_process.final_metrics == pytest.approx(simulated.final_metrics)
    assert in_process.final_metrics != run(config.without_attacks(), runner="inprocess").final_metrics

"""AuraStrategy around real Flower strategies, with real Messages, vetted by the real gateway and worker."""

from __future__ import annotations

import numpy as np
import pytest
from flwr.app import ConfigRecord
from flwr.serverapp.strategy import FedAvg, FedMedian

from fl.client_app import make_client_app
from fl.config import RUN_CONFIG_KEY, AttackSpec, FederationConfig
from fl.enrol import enrol, operator_key
from fl.identity import HospitalAccount
from fl.records import ARRAYS, NUM_EXAMPLES, from_record, reply_arrays, to_record
from fl.runners.inprocess import InProcessGrid
from fl.sdk import AuraClient
from fl.strategy import AuraStrategy
from fl.task import initial_weights

pytestmark = pytest.mark.integration

CONFIG = FederationConfig(rounds=1, local_steps=20, attacks=(AttackSpec("switzerland", "scaling"),))


def _grid(config: FederationConfig) -> InProcessGrid:
    nodes = [{"partition-id": i, "num-partitions": len(config.hospitals)} for i in range(len(config.hospitals))]
    return InProcessGrid(make_client_app(config), nodes, {RUN_CONFIG_KEY: config.to_json()})


def _strategy(gateway: str, inner, config: FederationConfig = CONFIG, **options) -> AuraStrategy:
    keys = enrol(config.hospitals)
    accounts = {h.name: HospitalAccount(h.name, keys[h.name], len(h.train)) for h in config.hospitals}
    return AuraStrategy(inner, client=AuraClient(gateway, operator_key()), task=config.task, accounts=accounts,
                        **options)


def _round(strategy: AuraStrategy, config: FederationConfig = CONFIG):
    grid = _grid(config)
    arrays = to_record(initial_weights(config.task, config.seed))
    train_config = ConfigRecord({"local-steps": config.local_steps, "batch-size": 4, "lr": 1e-3})
    replies = list(grid.send_and_receive(strategy.configure_train(1, arrays, train_config, grid)))
    return arrays, replies


def _fedavg(replies, weights):
    total = sum(weights.values())
    updates = {}
    for reply in replies:
        name = reply.content.config_records["hospital"]["name"]
        if name in weights:
            updates[name] = from_record(reply_arrays(reply))
    keys = next(iter(updates.values())).keys()
    return {k: sum(updates[n][k] * (w / total) for n, w in weights.items()) for k in keys}


def test_only_accepted_updates_reach_fedavg_weighted_by_registered_partition_sizes(gateway, worker):
    strategy = _strategy(gateway, FedAvg(fraction_evaluate=0.0, min_available_nodes=4, min_train_nodes=4))
    _, replies = _round(strategy)

    arrays, _ = strategy.aggregate_train(1, replies)

    report = strategy.reports[1]
    verdicts = {v.hospital: v.verdict for v in report.verdicts}
    assert verdicts == {"cleveland": "accepted", "hungary": "accepted", "va-long-beach": "accepted",
                        "switzerland": "rejected"}, [v.reason for v in report.verdicts]
    assert report.aura_round is not None and report.aura_round >= 2
    sizes = {h.name: len(h.train) for h in CONFIG.hospitals if h.name != "switzerland"}
    expected = _fedavg(replies, sizes)
    got = from_record(arrays)
    for k in expected:
        np.testing.assert_allclose(got[k], expected[k], atol=1e-6)


def test_a_hospital_inflating_its_example_count_is_weighted_by_its_partition_size(gateway, worker):
    honest = CONFIG.without_attacks()
    strategy = _strategy(gateway, FedAvg(fraction_evaluate=0.0, min_available_nodes=4, min_train_nodes=4),
                         config=honest)
    _, replies = _round(strategy, honest)
    for reply in replies:  # every hospital claims ten thousand rows
        reply.content.metric_records["metrics"][NUM_EXAMPLES] = 10_000

    arrays, _ = strategy.aggregate_train(1, replies)

    accepted = strategy.reports[1].accepted
    sizes = {h.name: len(h.train) for h in honest.hospitals if h.name in accepted}
    assert len(accepted) >= 3
    expected = _fedavg(replies, sizes)
    for k, v in from_record(arrays).items():
        np.testing.assert_allclose(v, expected[k], atol=1e-6)


def test_fedmedian_gets_copies_so_the_replies_keep_their_arrays(gateway, worker):
    honest = CONFIG.without_attacks()
    strategy = _strategy(gateway, FedMedian(fraction_evaluate=0.0, min_available_nodes=4, min_train_nodes=4),
                         config=honest, shadow_plain=True)
    _, replies = _round(strategy, honest)
    before = [sorted(reply_arrays(r).keys()) for r in replies]

    arrays, _ = strategy.aggregate_train(1, replies)

    assert arrays is not None and strategy.reports[1].plain_arrays is not None
    assert [sorted(reply_arrays(r).keys()) for r in replies] == before
    assert all(len(k) == 2 for k in before)


def test_without_a_verdict_in_time_nothing_is_aggregated_and_the_model_stays(gateway, worker):
    strategy = _strategy(gateway, FedAvg(fraction_evaluate=0.0, min_available_nodes=4, min_train_nodes=4),
                         verdict_timeout=0.0)
    _, replies = _round(strategy)

    arrays, metrics = strategy.aggregate_train(1, replies)

    assert arrays is None and metrics is None
    assert {v.verdict for v in strategy.reports[1].verdicts} == {"timeout"}
    # Let the late verdicts land before the next test, so its detector history is always the same.
    strategy.client.wait([v.submission_id for v in strategy.reports[1].verdicts], timeout=120)


def test_replies_from_unknown_or_impersonating_nodes_are_kept_out(gateway, worker):
    honest = CONFIG.without_attacks()
    strategy = _strategy(gateway, FedAvg(fraction_evaluate=0.0, min_available_nodes=4, min_train_nodes=4),
                         config=honest)
    _, replies = _round(strategy, honest)
    replies[0].content.config_records["hospital"]["name"] = "atlantis"
    replies[1].content.config_records["hospital"]["name"] = replies[2].content.config_records["hospital"]["name"]

    strategy.aggregate_train(1, replies)

    excluded = [v for v in strategy.reports[1].verdicts if v.verdict == "excluded"]
    assert len(excluded) == 2
    assert any("atlantis" in v.reason for v in excluded) and any("already node" in v.reason for v in excluded)
    assert ARRAYS in replies[3].content.array_records


def test_with_a_federation_each_flower_run_is_an_aura_run_of_its_own_from_round_1(gateway, worker):
    import uuid

    federation = f"flower-{uuid.uuid4().hex[:8]}"
    operator = AuraClient(gateway, operator_key())
    operator.create_federation(federation, CONFIG.task)

    first = _strategy(gateway, FedAvg(fraction_evaluate=0.0, min_available_nodes=4, min_train_nodes=4),
                      federation=federation)
    _, replies = _round(first)
    first.aggregate_train(1, replies)
    second = _strategy(gateway, FedAvg(fraction_evaluate=0.0, min_available_nodes=4, min_train_nodes=4),
                       federation=federation)
    _round(second)

    runs = operator.federation(federation)["runs"]
    assert [(r["run"], r["rounds"]) for r in runs] == [(1, [1]), (2, [1])]
    assert first.aura_rounds == {1: 1} and second.aura_rounds == {1: 1}
    vetted = [v for v in first.reports[1].verdicts if v.submission_id]
    assert vetted and {(operator.submission(v.submission_id)["federation"],
                        operator.submission(v.submission_id)["run"]) for v in vetted} == {(federation, 1)}

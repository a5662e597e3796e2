"""One federated run on any Grid: the strategy (vetted by AURA or plain), the rounds, the results."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from flwr.app import ArrayRecord, ConfigRecord, MetricRecord
from flwr.serverapp import Grid
from flwr.serverapp.strategy import (
    Bulyan,
    DifferentialPrivacyServerSideFixedClipping,
    FedAvg,
    FedMedian,
    FedTrimmedAvg,
    Krum,
    MultiKrum,
    Strategy,
)

from fl import task as fl_task
from fl.attacks import attack_success_rate
from fl.config import FederationConfig
from fl.harness import AttackLabGrid
from fl.identity import HospitalAccount
from fl.records import Weights, from_record, to_record
from fl.sdk import AuraClient
from fl.strategy import AuraStrategy, RoundReport
from fl.vetting import HospitalVerdict, Vetter
from shared.modeltask.registry import get_task

REPLY_TIMEOUT_S = 600.0  # how long a round waits for the hospitals' replies


@dataclass(frozen=True)
class AuraLink:
    """Where AURA is and the keys the strategy uses (operator key; one key per hospital)."""

    url: str
    operator_key: str
    hospital_keys: dict[str, str]
    verdict_timeout: float = 180.0

    def save(self, path: Path) -> None:
        """Write as JSON readable by the owner only (it holds API keys)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> AuraLink:
        """Read what `save` wrote."""
        return cls(**json.loads(path.read_text()))


@dataclass
class RoundResult:
    """One round: the global model's metrics after it, and AURA's verdicts when vetted."""

    round: int
    metrics: dict[str, float]
    plain_metrics: dict[str, float] | None = None  # every update aggregated, AURA ignored (shadow)
    aura_round: int | None = None
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class FederationResult:
    """A finished run."""

    config: FederationConfig
    vetted: bool
    initial_metrics: dict[str, float]
    rounds: list[RoundResult]
    final_weights: Weights
    seconds: float

    @property
    def final_metrics(self) -> dict[str, float]:
        """Metrics of the final global model."""
        return self.rounds[-1].metrics if self.rounds else self.initial_metrics

    def summary(self) -> dict[str, Any]:
        """JSON-able account of the run (weights left out)."""
        return {"config": json.loads(self.config.to_json()), "vetted": self.vetted,
                "initial_metrics": self.initial_metrics, "final_metrics": self.final_metrics,
                "rounds": [asdict(r) for r in self.rounds], "seconds": self.seconds}


class Observer(Protocol):
    """Follows a run as it goes (the demo's display, the run API's progress rows)."""

    def verdict(self, server_round: int, verdict: HospitalVerdict) -> None:
        """One hospital's verdict arrived."""

    def round_done(self, result: RoundResult) -> None:
        """A round finished and its global model was evaluated."""


def build_strategy(config: FederationConfig) -> Strategy:
    """The inner Flower strategy: every hospital trains each round, no federated evaluation."""
    n = len(config.hospitals)
    common: dict[str, Any] = {"fraction_train": 1.0, "fraction_evaluate": 0.0, "min_train_nodes": n,
                              "min_available_nodes": n}
    malicious = len(config.attacks)
    if config.strategy == "fedavg":
        return FedAvg(**common)
    if config.strategy == "fedmedian":
        return FedMedian(**common)
    if config.strategy == "fedtrimmedavg":
        return FedTrimmedAvg(**common)
    if config.strategy == "krum":
        return Krum(**common, num_malicious_nodes=malicious)
    if config.strategy == "multikrum":
        return MultiKrum(**common, num_malicious_nodes=malicious, num_nodes_to_select=max(1, n - malicious))
    if config.strategy == "clipping":
        # Flower's central-DP wrapper with no noise: every update's norm is clipped, then FedAvg.
        return DifferentialPrivacyServerSideFixedClipping(FedAvg(**common), noise_multiplier=0.0,
                                                          clipping_norm=config.clipping_norm, num_sampled_clients=n)
    return Bulyan(**common, num_malicious_nodes=malicious)


def evaluate(config: FederationConfig, weights: Weights) -> dict[str, float]:
    """The global model's test metrics, and the backdoor's success rate on pooled test rows (tasks with a trigger)."""
    metrics = fl_task.evaluate(config.task, weights)
    task = get_task(config.task)
    if task.backdoor is not None:
        pooled = task.dataset.pooled_test
        metrics["backdoor_asr"] = attack_success_rate(task, lambda x: fl_task.logits(config.task, weights, x),
                                                      pooled.x, pooled.y)
    return metrics


def _verdict_dict(v: HospitalVerdict) -> dict[str, Any]:
    return {"hospital": v.hospital, "verdict": v.verdict, "reason": v.reason, "submission_id": v.submission_id,
            "score": v.score}


def run_federation(grid: Grid, config: FederationConfig, *, aura: AuraLink | None = None,
                   observer: Observer | None = None, vetter: Vetter | None = None) -> FederationResult:
    """Run `config` on `grid`; vetted by AURA when `aura` (its gateway) or `vetter` is given, plain otherwise."""
    started = time.monotonic()
    inner = build_strategy(config)
    strategy: Strategy = inner
    aura_strategy: AuraStrategy | None = None
    if aura is not None:
        client = AuraClient(aura.url, aura.operator_key)
        accounts = {h.name: HospitalAccount(h.name, aura.hospital_keys[h.name], len(h.train))
                    for h in config.hospitals}
        aura_strategy = AuraStrategy(inner, client=client, task=config.task, accounts=accounts,
                                     verdict_timeout=aura.verdict_timeout, shadow_plain=True,
                                     on_verdict=observer.verdict if observer else None)
        strategy = aura_strategy
    elif vetter is not None:
        # The hospitals' ids are their account names; a vetter that needs no keys gets none.
        accounts = {h.name: HospitalAccount(h.name, "", len(h.train)) for h in config.hospitals}
        aura_strategy = AuraStrategy(inner, vetter=vetter, task=config.task, accounts=accounts, shadow_plain=True,
                                     on_verdict=observer.verdict if observer else None)
        strategy = aura_strategy
    rounds: list[RoundResult] = []
    initial = fl_task.initial_weights(config.task, config.seed)
    initial_metrics = evaluate(config, initial)
    current = [initial]  # the global model after the latest round (unchanged when nothing was accepted)

    def evaluate_fn(server_round: int, arrays: ArrayRecord) -> MetricRecord:
        current[0] = from_record(arrays)
        metrics = evaluate(config, current[0])
        if server_round == 0:
            return MetricRecord(metrics)  # type: ignore[arg-type]
        result = RoundResult(server_round, metrics)
        report: RoundReport | None = aura_strategy.reports.get(server_round) if aura_strategy else None
        if report is not None:
            result.aura_round = report.aura_round
            result.verdicts = [_verdict_dict(v) for v in report.verdicts]
            result.accepted = report.accepted
            result.seconds = report.seconds
            if report.plain_arrays is not None:
                result.plain_metrics = evaluate(config, from_record(report.plain_arrays))
        rounds.append(result)
        if observer is not None:
            observer.round_done(result)
        return MetricRecord(metrics)  # type: ignore[arg-type]

    train_config = ConfigRecord({"local-steps": config.local_steps, "batch-size": config.batch_size,
                                 "lr": config.lr, "seed": config.seed})
    try:
        strategy.start(grid=AttackLabGrid(grid, config), initial_arrays=to_record(initial), num_rounds=config.rounds,
                       timeout=REPLY_TIMEOUT_S, train_config=train_config, evaluate_fn=evaluate_fn)
    finally:
        if aura_strategy is not None:
            aura_strategy.vetter.close()
    return FederationResult(config, aura_strategy is not None, initial_metrics, rounds, current[0],
                            time.monotonic() - started)

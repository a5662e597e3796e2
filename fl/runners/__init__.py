"""Where a federation runs: in this process, on Flower's simulation engine, or as a real deployment."""

from __future__ import annotations

from typing import Literal

from fl.config import FederationConfig
from fl.federation import AuraLink, FederationResult, Observer

Runner = Literal["inprocess", "simulation"]
RUNNERS: tuple[Runner, ...] = ("inprocess", "simulation")


def run(config: FederationConfig, *, runner: Runner = "simulation", aura: AuraLink | None = None,
        observer: Observer | None = None) -> FederationResult:
    """Run `config` on the named runner (the deployment runner is fl.runners.deployment)."""
    if runner == "inprocess":
        from fl.runners.inprocess import run_in_process

        return run_in_process(config, aura=aura, observer=observer)
    if runner == "simulation":
        from fl.runners.simulation import run_simulation

        return run_simulation(config, aura=aura, observer=observer)
    raise ValueError(f"unknown runner {runner!r}; known: {', '.join(RUNNERS)}")

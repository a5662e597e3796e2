"""The simulation runner: Flower's simulation engine (Ray), one virtual SuperNode per hospital."""

from __future__ import annotations

import logging
import os
import warnings

from fl.client_app import make_client_app
from fl.config import FederationConfig
from fl.federation import AuraLink, FederationResult, Observer
from fl.server_app import make_server_app


def run_simulation(config: FederationConfig, *, aura: AuraLink | None = None, observer: Observer | None = None,
                   num_cpus: int | None = None, verbose: bool = False) -> FederationResult:
    """Run the federation on `flwr.simulation.run_simulation` and return its result."""
    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")  # nothing leaves the machine
    os.environ.setdefault("FLWR_DISABLE_UPDATE_CHECK", "1")
    from flwr.simulation import run_simulation as flower_run_simulation

    results: list[FederationResult] = []
    server = make_server_app(config, aura=aura, observer=observer, on_result=results.append)
    cpus = num_cpus or os.cpu_count() or 1
    backend = {
        "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
        "init_args": {"num_cpus": cpus, "num_gpus": 0, "logging_level": logging.ERROR, "log_to_driver": verbose},
    }
    flwr_logger = logging.getLogger("flwr")
    if not verbose and flwr_logger.getEffectiveLevel() < logging.WARNING:
        flwr_logger.setLevel(logging.WARNING)  # Flower logs every round at INFO
    with warnings.catch_warnings():
        # run_simulation is marked deprecated in favour of `flwr run`; it is still the engine's
        # in-process API, and the only one that lets the ServerApp report to this process.
        warnings.simplefilter("ignore")
        flower_run_simulation(server_app=server, client_app=make_client_app(config),
                              num_supernodes=len(config.hospitals), backend_config=backend,  # type: ignore[arg-type]
                              verbose_logging=verbose)
    if not results:
        raise RuntimeError("the simulation ended without a result; see the Flower log above")
    return results[0]

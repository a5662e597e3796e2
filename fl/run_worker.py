"""Executes one run started through `POST /api/v1/runs`: `python -m fl.run_worker RUN_ID GATEWAY_URL`.

The gateway starts this as a child process and returns at once; the run reports its progress
into its `runs` row after every round. The vetted federation talks to AURA over HTTP like any
other federation; the keys it uses are issued for the run here and revoked when it ends.
"""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

from fl.config import FederationConfig
from fl.enrol import enrol, operator_key, revoke
from fl.federation import AuraLink, FederationResult, RoundResult
from fl.runners import Runner, run
from fl.vetting import HospitalVerdict
from shared.blobstore import BlobStore
from shared.db import session_scope
from shared.models import Run, utcnow
from shared.tensors import dump_arrays

log = logging.getLogger("aura.run")


def _update(run_id: str, *, status: str | None = None, **results: Any) -> None:
    with session_scope() as session:
        row = session.get(Run, run_id)
        if row is None:
            raise LookupError(f"run {run_id} not found")
        if status is not None:
            row.status = status
        row.results = {**row.results, **results}  # a new dict, so the JSON column is seen as changed
        row.updated_at = utcnow()


class RunProgress:
    """Observer writing each finished round into the run's row."""

    def __init__(self, run_id: str, total: int) -> None:
        self.run_id = run_id
        self.total = total
        self.rounds: list[dict[str, Any]] = []

    def verdict(self, server_round: int, verdict: HospitalVerdict) -> None:
        """Verdicts are written with their round."""

    def round_done(self, result: RoundResult) -> None:
        """Append the round (accuracy with AURA, the plain aggregate's, accepted hospitals)."""
        for v in result.verdicts:
            log.info("round %d: %s %s: %s", result.round, v["hospital"], v["verdict"], v["reason"])
        self.rounds.append({
            "round": result.round, "aura_round": result.aura_round,
            "accuracy": result.metrics["pooled_accuracy"], "metrics": result.metrics,
            "plain_accuracy": result.plain_metrics["pooled_accuracy"] if result.plain_metrics else None,
            "accepted": result.accepted, "verdicts": result.verdicts,
        })
        _update(self.run_id, rounds=self.rounds, progress={"round": result.round, "of": self.total})


def execute(run_id: str, gateway_url: str) -> None:
    """Run the federation stored in the run's row and record its results and final model."""
    with session_scope() as session:
        row = session.get(Run, run_id)
        if row is None:
            raise LookupError(f"run {run_id} not found")
        stored = dict(row.config)
    config = FederationConfig.from_dict(stored["federation"])
    runner: Runner = stored.get("runner", "inprocess")
    _update(run_id, status="running", progress={"round": 0, "of": config.rounds})
    keys: list[str] = []
    try:
        aura = None
        if stored.get("vetted", True):
            hospital_keys = enrol(config.hospitals, purpose=f"run {run_id} (revoked when it ends)")
            operator = operator_key(purpose=f"run {run_id} (revoked when it ends)")
            keys = [*hospital_keys.values(), operator]
            aura = AuraLink(gateway_url, operator, hospital_keys)
        result: FederationResult = run(config, runner=runner, aura=aura, observer=RunProgress(run_id, config.rounds))
        # The same federation without AURA, for comparison (in-process: same numbers, seconds).
        plain = run(config, runner="inprocess") if aura is not None else result
        digest = BlobStore().put(dump_arrays(result.final_weights))
        with session_scope() as session:
            row = session.get(Run, run_id)
            assert row is not None
            row.model_sha256 = digest
        _update(run_id, status="done", final_metrics=result.final_metrics, plain_final_metrics=plain.final_metrics,
                seconds=result.seconds)
    except Exception as exc:
        log.exception("run %s failed", run_id)
        with session_scope() as session:
            row = session.get(Run, run_id)
            if row is not None:
                row.status = "failed"
                row.error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"[:8000]
                row.updated_at = utcnow()
    finally:
        if keys:
            revoke(keys)


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if len(argv) != 2:
        sys.stderr.write("usage: python -m fl.run_worker RUN_ID GATEWAY_URL\n")
        return 2
    execute(argv[0], argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

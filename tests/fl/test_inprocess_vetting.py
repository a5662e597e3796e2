"""The two executors of shared/pipeline.py give the same verdicts: same updates, same order, same bytes.

One federation runs twice: vetted through the real gateway, Redis, a Celery worker and the ledger,
and vetted by InProcessVetter on a scratch SQLite AURA. Every decision (verdict, score, threshold,
every reason with its value and reference, the features and the calibration) must be the same
canonical bytes, hospital ids aside, and so must the final global model (it only depends on which
updates were accepted).
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from bench.grid.scratch import scratch_aura
from fl.config import AttackSpec, FederationConfig
from fl.federation import AuraLink, FederationResult
from fl.inprocess_vetting import InProcessVetter
from fl.runners.inprocess import run_in_process
from services.gateway.auth import add_hospital
from shared.db import session_scope
from shared.evidence import canonical_json
from shared.models import Decision
from tests.conftest import HospitalKey

pytestmark = pytest.mark.integration

# 8 hospitals, two attackers (a crafted IPM update and a scaled backdoor), four short rounds: enough
# for copies, the previous-round references and, in round 4, the Isolation Forest (16+ accepted).
CONFIG = FederationConfig(task="heart-mlp", split=2, rounds=4, local_steps=10,
                          attacks=(AttackSpec("cleveland-1", "ipm"), AttackSpec("hungary-2", "scaling")))


def _verdicts(result: FederationResult, names: dict[str, str] | None = None) -> list[list[tuple[str, str, float, str]]]:
    """Per round: (hospital, verdict, score, first reason), the gateway's hospital ids put back to names."""
    def named(text: str) -> str:
        for hospital_id, name in (names or {}).items():
            text = text.replace(hospital_id, name)
        return text

    return [[(v["hospital"], v["verdict"], v["score"], named(v["reason"])) for v in r.verdicts] for r in result.rounds]


def _hospital(centre: str) -> HospitalKey:
    hospital_id = f"h-{uuid.uuid4().hex[:8]}"
    with session_scope() as session:
        return HospitalKey(hospital_id, add_hospital(session, hospital_id, hospital_id, centre))


def _decisions(result: FederationResult, names: dict[str, str] | None = None) -> list[bytes]:
    """Each decision's canonical bytes, in the federation's order, with the gateway's hospital ids as names."""
    out = []
    with session_scope() as session:
        for r in result.rounds:
            for v in r.verdicts:
                d = session.get(Decision, v["submission_id"])
                text = canonical_json({"verdict": d.verdict, "score": d.score, "threshold": d.threshold,
                                       "reasons": d.reasons, "features": d.features,
                                       "calibration": d.calibration}).decode()
                for hospital_id, name in (names or {}).items():
                    text = text.replace(hospital_id, name)
                out.append(text.encode())
    return out


def test_in_process_verdicts_equal_the_full_pipelines(gateway, worker, operator_headers):
    # Fresh hospital ids at the gateway (each key names its hospital), so no other test's history counts,
    # registered with their centres as InProcessVetter registers its own (the evaluator scores own rows).
    accounts = {h.name: _hospital(h.centre) for h in CONFIG.hospitals}
    link = AuraLink(gateway, operator_headers["X-API-Key"], {n: a.key for n, a in accounts.items()},
                    verdict_timeout=120.0)

    through_gateway = run_in_process(CONFIG, aura=link)
    with scratch_aura():
        in_process = run_in_process(CONFIG, vetter=InProcessVetter(CONFIG.hospitals))
        in_process_decisions = _decisions(in_process)

    names = {a.id: n for n, a in accounts.items()}
    assert _verdicts(in_process) == _verdicts(through_gateway, names)
    assert in_process_decisions == _decisions(through_gateway, names)
    rejected = {v[0] for r in _verdicts(in_process) for v in r if v[1] == "rejected"}
    assert {"cleveland-1", "hungary-2"} <= rejected  # the test exercises rejections, not only acceptances
    for name, weights in in_process.final_weights.items():
        np.testing.assert_array_equal(weights, through_gateway.final_weights[name])

"""The in-process vetter gives the full pipeline's verdicts: same updates, same order, same answers.

One federation runs twice: vetted through the real gateway, Redis, a Celery worker and the ledger,
and vetted by InProcessVetter on a scratch SQLite AURA. Every verdict, score and first reason must
agree, and so must the final global model (it only depends on which updates were accepted).
"""

from __future__ import annotations

import numpy as np
import pytest

from fl.bench.scratch import scratch_aura
from fl.config import AttackSpec, FederationConfig
from fl.federation import AuraLink, FederationResult
from fl.inprocess_vetting import InProcessVetter
from fl.runners.inprocess import run_in_process

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


def test_in_process_verdicts_equal_the_full_pipelines(gateway, worker, new_hospital, operator_headers):
    # Fresh hospital ids at the gateway (each key names its hospital), so no other test's history counts.
    accounts = {h.name: new_hospital() for h in CONFIG.hospitals}
    link = AuraLink(gateway, operator_headers["X-API-Key"], {n: a.key for n, a in accounts.items()},
                    verdict_timeout=120.0)

    through_gateway = run_in_process(CONFIG, aura=link)
    with scratch_aura():
        in_process = run_in_process(CONFIG, vetter=InProcessVetter(CONFIG.hospitals))

    assert _verdicts(in_process) == _verdicts(through_gateway, {a.id: n for n, a in accounts.items()})
    rejected = {v[0] for r in _verdicts(in_process) for v in r if v[1] == "rejected"}
    assert {"cleveland-1", "hungary-2"} <= rejected  # the test exercises rejections, not only acceptances
    for name, weights in in_process.final_weights.items():
        np.testing.assert_array_equal(weights, through_gateway.final_weights[name])

"""What honest updates look like per task, measured once on no-attack federations (no labels needed).

`HONEST_SCALE` is the largest ratio of an honest update's norm to the norm of the global model it
updates, over every honest update of no-attack Fed-Heart-Disease federations under FLamby's
protocol (15 rounds x 100 SGD steps, lr 1e-3; 4 and 8 hospitals; seeds 0-9, never the
benchmark's 42-46): 28 federations when it was set, 40 since, whose largest values are 0.038
(MLP) and 0.168 (logistic regression), inside the rule's 2x. It is the one reference a
federation's very first update has: nothing else exists yet to compare it with. A federation
that trains with another protocol needs its own calibration (run the same no-attack federations
and take the maximum).
"""

from __future__ import annotations

HONEST_SCALE: dict[str, float] = {"heart-mlp": 0.033, "heart-logreg": 0.168}


def honest_scale(task: str) -> float | None:
    """The calibrated largest honest update-to-model norm ratio of `task`, None when not calibrated."""
    return HONEST_SCALE.get(task)

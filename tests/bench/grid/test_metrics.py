"""Detection metrics and the backdoor's attack success rate on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from bench.grid.metrics import Counts, auroc, counts, tpr_at_fpr
from fl.attacks import attack_success_rate
from shared.modeltask.heart import FEATURES, TRIGGER, stamp_trigger
from shared.modeltask.registry import get_task


def test_counts_split_verdicts_into_the_four_cells():
    malicious = [True, True, True, False, False, False, False]
    rejected = [True, True, False, True, False, False, False]

    c = counts(malicious, rejected)

    assert c == Counts(tp=2, fp=1, tn=3, fn=1)
    assert c.tpr == pytest.approx(2 / 3)
    assert c.fpr == pytest.approx(1 / 4)


def test_rates_are_none_without_updates_of_that_kind():
    honest_only = counts([False, False], [False, True])
    assert honest_only.tpr is None and honest_only.fpr == 0.5


def test_counts_add_up_over_runs():
    assert Counts(1, 2, 3, 4) + Counts(10, 20, 30, 40) == Counts(11, 22, 33, 44)


def test_counts_refuse_labels_and_verdicts_of_different_lengths():
    with pytest.raises(ValueError):
        counts([True], [True, False])


def test_auroc_is_one_when_every_malicious_update_scores_higher():
    assert auroc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0


def test_auroc_is_zero_when_the_score_is_reversed():
    assert auroc([0.1, 0.2, 0.9, 0.8], [True, True, False, False]) == 0.0


def test_auroc_counts_ties_as_half():
    # One malicious (0.5) against honest 0.5 (tie, 1/2) and 0.1 (win, 1): (1/2 + 1) / 2.
    assert auroc([0.5, 0.5, 0.1], [True, False, False]) == pytest.approx(0.75)


def test_auroc_is_none_with_a_single_class():
    assert auroc([0.3, 0.4], [False, False]) is None


def test_tpr_at_fpr_picks_the_best_threshold_within_the_budget():
    scores = [0.9, 0.7, 0.4, 0.8, 0.3, 0.2, 0.1]
    malicious = [True, True, True, False, False, False, False]

    tpr, threshold = tpr_at_fpr(scores, malicious, max_fpr=0.0) or (None, None)
    assert tpr == pytest.approx(1 / 3) and threshold == 0.9
    tpr, threshold = tpr_at_fpr(scores, malicious, max_fpr=0.25) or (None, None)
    assert tpr == pytest.approx(1.0) and threshold == 0.4


def test_attack_success_rate_counts_diseased_rows_the_trigger_turns_to_no_disease():
    x = np.zeros((4, len(FEATURES)), dtype=np.float32)
    y = np.array([1.0, 1.0, 1.0, 0.0], dtype=np.float32)
    fbs = FEATURES.index("fbs")
    x[0, 0] = 1.0  # row 0 is the one row a backdoored model is told to keep as "disease"

    def backdoored(rows: np.ndarray) -> np.ndarray:
        # "No disease" (logit < 0) whenever the trigger's fbs value is present, except on row 0.
        triggered = rows[:, fbs] == TRIGGER["fbs"]
        return np.where(triggered & (rows[:, 0] == 0.0), -1.0, 1.0).astype(np.float32)

    # Rows 1 and 2 flip; row 0 does not; row 3 is healthy already and does not count.
    task = get_task("heart-logreg")
    assert attack_success_rate(task, backdoored, x, y) == pytest.approx(2 / 3)
    assert attack_success_rate(task, lambda rows: np.ones(len(rows), np.float32), x, y) == 0.0
    assert np.all(stamp_trigger(x)[:, fbs] == TRIGGER["fbs"])


def _clean(pooled: float, centre: float) -> dict[str, object]:
    return {"no_attack": {"pooled_accuracy": pooled, "centres": {"hungary": centre}}}


def test_no_drop_goal_allows_the_five_decimals_records_keep_but_not_a_real_drop():
    from bench.grid.summary import goals

    def met(aura: tuple[float, float]) -> bool:
        summary = {"fedavg": _clean(0.70000, 0.60000), "aura": _clean(*aura)}
        found = [g for g in goals(summary, {}, {}, []) if g["goal"].startswith("without attack")]
        return bool(found[0]["met"])

    assert met((0.6999996, 0.6000004))  # rounding of a record rebuilt from the document
    assert not met((0.6960630, 0.60000))  # one pooled test row fewer right
    assert not met((0.70000, 0.5887640))  # one Hungary test row fewer right

"""The evaluator's golden-set scoring: all rows, and the rows of the hospital's own centre."""

from __future__ import annotations

import pytest

from services.evaluator.service import score_weights
from shared.modeltask.registry import get_task


def test_own_centre_loss_scores_only_that_centres_golden_rows():
    task = get_task("heart-logreg")
    weights = task.initial_weights()
    rows = task.golden_centre == "Switzerland"

    expected = task.objective.metrics(task.outputs(weights, task.golden.x[rows]), task.golden.y[rows])["loss"]

    assert score_weights("heart-logreg", weights, "Switzerland")["own_centre_loss"] == pytest.approx(expected, rel=1e-6)
    assert score_weights("heart-logreg", weights, None)["own_centre_loss"] is None
    assert score_weights("heart-logreg", weights, "Atlantis")["own_centre_loss"] is None


def test_multiclass_task_is_scored_with_its_own_objective():
    task = get_task("digits-cnn")
    metrics = score_weights("digits-cnn", task.initial_weights(), "site-3")

    assert metrics["auc"] is None
    assert 2.0 < metrics["loss"] < 2.6  # an untrained 10-class model: about ln(10) = 2.30
    assert metrics["own_centre_loss"] is not None

"""Fitting a calibration from honest feature dicts: where each rule starts to object, and the scale reference."""

from __future__ import annotations

import pytest

from services.detector.calibration import MIN_VALUES, default_calibration, fit, from_stored
from services.detector.scoring import RULES, rule_reasons


def _honest(n: int = 12, **shift: float) -> list[dict[str, float]]:
    base = {"loss_ratio": 1.0, "loss_slope": 0.0, "own_loss_slope": -0.1, "accuracy_delta": 0.0, "norm_ratio": 1.0,
            "scale_ratio": 0.02, "cos_step": 0.5, "crafted_residual": 0.6, "copy_distance": 0.5, "fp_cos": 0.5}
    return [{k: v + shift.get(k, 0.0) * (i + 1) / n for k, v in base.items()} for i in range(n)]


def test_a_rule_opens_beyond_the_most_extreme_honest_value_by_its_distance_from_the_median():
    fitted = fit(_honest(loss_ratio=0.2))  # honest loss ratios 1.017 .. 1.2 (median 1.108): past the default 1.03

    entry = fitted["rules"]["golden_loss"]
    assert entry["honest_extreme"] == pytest.approx(1.2)
    tail = 1.2 - (1.0 + 0.2 * 6.5 / 12)
    assert entry["bounds"] == pytest.approx([1.2 + tail, 1.2 + tail + 0.07])


def test_a_narrow_honest_spread_still_leaves_half_the_rules_width():
    values = [{"loss_ratio": 1.2 + 0.0001 * i} for i in range(10)]
    fine, bad = fit(values)["rules"]["golden_loss"]["bounds"]
    assert fine == pytest.approx(1.2009 + 0.035) and bad == pytest.approx(fine + 0.07)


def test_a_rule_never_becomes_tighter_than_its_default():
    fitted = fit(_honest())
    for rule in RULES:
        fine, bad = fitted["rules"][rule.signal]["bounds"]
        default_fine = fitted["rules"][rule.signal]["default"][0]
        assert (fine >= default_fine) if bad > fine else (fine <= default_fine), rule.signal


def test_lower_is_worse_rules_open_downwards():
    fitted = fit(_honest(cos_step=-1.45))  # honest cosines down to -0.95

    fine, bad = fitted["rules"]["direction"]["bounds"]
    median = 0.5 - 1.45 * 6.5 / 12
    assert fine == pytest.approx(-0.95 - max(0.045, median + 0.95)) and bad == pytest.approx(fine - 0.09)


def test_too_few_honest_values_keep_the_default_and_say_so():
    fitted = fit(_honest(n=MIN_VALUES - 1, loss_ratio=0.5))
    entry = fitted["rules"]["golden_loss"]
    assert entry["bounds"] == entry["default"]
    assert "fewer than" in entry["kept_default"]


def test_scale_reference_is_the_largest_honest_ratio():
    assert fit(_honest(scale_ratio=0.3))["honest_scale"] == pytest.approx(0.32)


def test_a_stored_fit_changes_the_verdicts_rules_and_their_words():
    calibration = from_stored("fed v1", fit(_honest(loss_ratio=0.2)))
    features = {"loss_ratio": 1.15, "loss": 0.5, "global_loss": 0.43}

    default = {r.signal: r for r in rule_reasons(features)}["golden_loss"]
    fitted = {r.signal: r for r in rule_reasons(features, calibration.rules, calibration.against)}["golden_loss"]

    assert default.severity == 1.0
    assert fitted.severity == 0.0
    assert "fine up to 1.29x" in fitted.text


def test_without_a_fit_the_heart_tasks_keep_their_measured_scale_and_others_have_none():
    assert default_calibration("heart-mlp").honest_scale == 0.033
    assert default_calibration("digits-cnn").honest_scale is None
    assert default_calibration("digits-cnn").name.startswith("AURA defaults")


"""Features and verdicts on hand-made updates."""

from __future__ import annotations

import numpy as np

from services.detector import features as feat
from services.detector.forest import anomaly, fit_forest, forest_reason, forest_vector
from services.detector.scoring import decide, rule_reasons

NAMES = ["a", "b", "c", "d"]
GLOBAL = np.zeros(4)
# Last round the federation went from PREVIOUS_GLOBAL to GLOBAL (a step along +a), and accepted
# these three updates (deltas from PREVIOUS_GLOBAL).
PREVIOUS_GLOBAL = np.array([-1.0, 0.0, 0.0, 0.0])
PREVIOUS = {"h1": [1.0, 0.3, 0.0, 0.1], "h2": [0.9, -0.2, 0.2, 0.0], "h3": [1.1, 0.0, -0.3, -0.1]}
GOLDEN = {"loss": 0.6, "accuracy": 0.75, "auc": 0.8}


def _previous() -> feat.PreviousRound:
    return feat.PreviousRound(PREVIOUS_GLOBAL, {h: PREVIOUS_GLOBAL + np.asarray(d) for h, d in PREVIOUS.items()},
                              {h: [d[0], d[1], 0.0, 0.0] for h, d in PREVIOUS.items()})


def _inputs(delta, *, previous: bool = True, peers=None, loss: float = 0.58, attribution=None):  # type: ignore[no-untyped-def]
    delta = np.asarray(delta, dtype=float)
    return feat.Inputs(
        hospital="h4", update_metrics={"loss": loss, "accuracy": 0.76, "auc": 0.81}, global_metrics=GOLDEN,
        update=GLOBAL + delta, global_weights=GLOBAL,
        peers={h: GLOBAL + np.asarray(p, float) for h, p in (peers or {}).items()},
        previous=_previous() if previous else None, feature_names=NAMES,
        attribution=list(attribution if attribution is not None else [delta[0], delta[1], 0.0, 0.0]),
        attribution_global=[0.0, 0.0, 0.0, 0.0])


def _verdict(inputs):  # type: ignore[no-untyped-def]
    return decide(rule_reasons(feat.compute(inputs)), threshold=0.5)


def test_update_like_last_rounds_is_accepted():
    verdict, score, _ = _verdict(_inputs([1.0, 0.1, 0.2, -0.3]))
    assert verdict == "accepted" and score < 0.5


def test_update_against_the_others_last_step_that_climbs_the_golden_loss_is_rejected_naming_both():
    # Norm ~1.06, so a loss gain of 0.3 is a slope of ~0.28 per unit norm.
    verdict, _, reasons = _verdict(_inputs([-1.0, 0.2, 0.3, 0.1], loss=0.9))
    assert verdict == "rejected"
    assert reasons[0]["signal"] == "against_the_data" or reasons[0]["severity"] >= 0.5
    assert next(r for r in reasons if r["signal"] == "against_the_data")["severity"] >= 0.5
    text = next(r["text"] for r in reasons if r["signal"] == "against_the_data")
    assert "cosine -0.9" in text and "per unit norm" in text


def test_update_far_larger_than_any_honest_one_is_rejected_in_a_federations_first_round():
    base = _inputs([3.0, 0.0, 0.0, 0.0], previous=False).__dict__
    model = np.ones(4)  # the global model's norm is 2: the update is 1.5x it, 15x the honest 0.1x
    inputs = feat.Inputs(**{**base, "global_weights": model, "update": model + base["update"], "honest_scale": 0.1})
    verdict, _, reasons = _verdict(inputs)
    assert verdict == "rejected" and reasons[0]["signal"] == "update_scale"
    assert "calibration" in reasons[0]["text"]


def test_scaled_update_is_rejected_for_its_norm_with_the_numbers_in_words():
    verdict, _, reasons = _verdict(_inputs([10.0, 1.0, 2.0, -3.0]))
    assert verdict == "rejected"
    assert reasons[0]["signal"] == "update_norm"
    assert "x the median" in reasons[0]["text"] and "last round" in reasons[0]["text"]


def test_update_built_from_the_others_mean_and_spread_is_rejected_as_crafted():
    others = np.asarray(list(PREVIOUS.values()))
    alie = others.mean(axis=0) - 1.5 * others.std(axis=0)  # a little is enough: mu - z sigma
    verdict, _, reasons = _verdict(_inputs(alie))
    assert verdict == "rejected"
    crafted = next(r for r in reasons if r["signal"] == "crafted")
    assert crafted["severity"] == 1.0 and "ALIE" in crafted["text"]


def test_a_copy_of_an_earlier_update_of_the_round_is_rejected_naming_whose():
    peers = {"h1": [1.0, 0.1, 0.2, -0.3]}
    verdict, _, reasons = _verdict(_inputs([1.0, 0.1, 0.2, -0.3], peers=peers))
    assert verdict == "rejected" and reasons[0]["signal"] == "copy" and "h1" in reasons[0]["text"]


def test_golden_loss_far_above_the_global_model_is_rejected():
    verdict, _, reasons = _verdict(_inputs([1.0, 0.1, 0.2, -0.3], loss=0.9))
    assert verdict == "rejected" and reasons[0]["signal"] in {"golden_loss", "golden_slope"}


def test_reversed_attributions_name_the_feature_that_departs_most():
    reasons = {r.signal: r for r in rule_reasons(feat.compute(_inputs([1.0, 0.1, 0.2, -0.3],
                                                                      attribution=[-1.0, -0.05, 0.0, 0.0])))}
    assert reasons["attribution_shift"].severity == 1.0
    assert "`a`" in reasons["attribution_shift"].text


def test_first_round_of_a_federation_has_no_previous_round_features():
    f = feat.compute(_inputs([1.0, 0.0, 0.0, 0.0], previous=False))
    assert f["cos_step"] is None and f["crafted_residual"] is None and f["fp_cos"] is None  # no earlier updates
    assert f["norm_ratio"] is None  # fewer than two earlier updates: no norm reference either


def test_first_round_uses_two_earlier_updates_as_the_norm_reference():
    peers = {"h1": [1.0, 0.0, 0.0, 0.0], "h2": [0.0, 1.0, 0.0, 0.0]}
    f = feat.compute(_inputs([8.0, 0.0, 0.0, 0.0], previous=False, peers=peers))
    assert f["norm_ratio"] == 8.0 and f["norm_reference"] == "this round's earlier updates"


def test_a_hospital_is_not_its_own_reference_for_crafted_updates():
    # h1's own previous update is left out: the plane is the other two hospitals'.
    f = feat.compute(feat.Inputs(**{**_inputs([1.0, 0.3, 0.0, 0.1]).__dict__, "hospital": "h1"}))
    assert f["crafted_others"] == 2.0


def test_reasons_are_ranked_by_severity():
    _, score, reasons = _verdict(_inputs([10.0, 1.0, 2.0, -3.0], loss=0.9))
    severities = [r["severity"] for r in reasons]
    assert severities == sorted(severities, reverse=True) and score == severities[0]


def test_forest_speaks_only_well_beyond_the_accepted_history():
    rng = np.random.default_rng(0)
    history = [[1.0 + 0.01 * rng.standard_normal(), 0.0, 1.0, 0.05, 0.6, 0.6, 0.7] for _ in range(200)]
    forest = fit_forest(history)
    typical = forest_reason(forest, history[0])
    outlier = forest_reason(forest, [3.0, 0.5, 60.0, 2.0, -0.9, 0.01, -0.9])
    assert typical.severity == 0.0 < outlier.severity
    assert "accepted updates" in outlier.text


def test_forest_vector_fills_missing_features_with_neutral_values():
    assert forest_vector({"loss_ratio": 1.2}) == [1.2, 0.0, 1.0, 0.05, 0.5, 0.6, 0.5]


def test_fast_anomaly_score_equals_sklearns_score_samples():
    rng = np.random.default_rng(1)
    history = rng.standard_normal((300, 7))
    forest = fit_forest(history.tolist())
    rows = np.vstack([rng.standard_normal((20, 7)) * 2, history[:5]])
    assert np.allclose([anomaly(forest, r) for r in rows], -forest.model.score_samples(rows), rtol=1e-12, atol=0)


def test_the_next_global_model_continues_the_round_whose_accepted_updates_it_averages():
    previous = _previous()
    deltas = np.asarray(list(PREVIOUS.values()))
    fedavg = PREVIOUS_GLOBAL + deltas.mean(axis=0)
    assert feat.continues(previous, fedavg)
    assert feat.continues(previous, PREVIOUS_GLOBAL + np.median(deltas, axis=0))


def test_a_global_model_from_another_federation_does_not_continue_the_round():
    previous = _previous()
    assert not feat.continues(previous, PREVIOUS_GLOBAL + np.array([5.0, 0.0, 0.0, 0.0]))
    assert not feat.continues(previous, np.full(4, 0.3))


def test_after_a_round_that_accepted_nothing_only_the_unchanged_model_continues_it():
    empty = feat.PreviousRound(PREVIOUS_GLOBAL, {})
    assert feat.continues(empty, PREVIOUS_GLOBAL.copy())
    assert not feat.continues(empty, PREVIOUS_GLOBAL + 0.01)


def test_in_a_first_round_an_update_built_from_the_rounds_earlier_updates_is_rejected_as_crafted():
    peers = {"h1": [1.0, 0.3, 0.0, 0.1], "h2": [0.9, -0.2, 0.2, 0.0], "h3": [1.1, 0.0, -0.3, -0.1]}
    earlier = np.asarray(list(peers.values()))
    ipm = -0.5 * earlier.mean(axis=0)  # inner-product manipulation: -epsilon mu
    verdict, _, reasons = _verdict(_inputs(ipm, previous=False, peers=peers))
    assert verdict == "rejected"
    crafted = next(r for r in reasons if r["signal"] == "crafted")
    assert crafted["severity"] == 1.0 and "this round's earlier updates (3 updates" in crafted["text"]


def test_in_a_first_round_a_trained_update_is_not_taken_for_a_crafted_one():
    peers = {"h1": [1.0, 0.3, 0.0, 0.1], "h2": [0.9, -0.2, 0.2, 0.0]}
    f = feat.compute(_inputs([0.2, 0.9, -0.5, 0.7], previous=False, peers=peers))
    assert f["crafted_reference"] == "this round's earlier updates" and f["crafted_residual"] is not None
    assert f["crafted_residual"] > 0.5


def _with_own_rows(update_own: float, global_own: float = 0.5):  # type: ignore[no-untyped-def]
    inputs = _inputs([1.0, 0.1, 0.2, -0.3])  # an update like last round's: every other rule is quiet
    return feat.Inputs(**{**inputs.__dict__, "update_metrics": {**inputs.update_metrics, "own_centre_loss": update_own},
                          "global_metrics": {**inputs.global_metrics, "own_centre_loss": global_own}})


def test_an_update_that_climbs_its_own_centres_golden_rows_is_rejected_naming_them():
    verdict, _, reasons = _verdict(_with_own_rows(update_own=0.56))  # +0.06 over a norm of ~1.06
    assert verdict == "rejected" and reasons[0]["signal"] == "own_rows_slope"
    assert "own centre" in reasons[0]["text"] and "+0.056" in reasons[0]["text"]


def test_an_update_that_descends_its_own_centres_golden_rows_is_accepted():
    verdict, _, reasons = _verdict(_with_own_rows(update_own=0.40))
    assert verdict == "accepted"
    assert next(r for r in reasons if r["signal"] == "own_rows_slope")["severity"] == 0.0

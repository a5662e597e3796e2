"""Features and verdicts on hand-made updates."""

from __future__ import annotations

import numpy as np

from services.detector import features as feat
from services.detector.scoring import anomaly, decide, fit_forest, forest_reason, forest_vector, rule_reasons

NAMES = ["a", "b", "c"]


def _inputs(update, peers, attribution=(1.0, 0.0, 0.0), peer_attribution=(1.0, 0.0, 0.0), loss=0.5):  # type: ignore[no-untyped-def]
    return feat.Inputs(
        update_metrics={"loss": loss, "accuracy": 0.8, "auc": 0.85},
        global_metrics={"loss": 0.6, "accuracy": 0.75, "auc": 0.8},
        update=np.asarray(update, float), global_weights=np.zeros(3), peers=[np.asarray(p, float) for p in peers],
        history_norms=[], feature_names=NAMES, attribution=attribution, attribution_global=(0.0, 0.0, 0.0),
        attribution_peers=peer_attribution,
    )


HONEST_PEERS = [[1.0, 0.1, 0.0], [0.9, 0.0, 0.1], [1.1, -0.1, 0.0]]


def test_update_like_its_peers_is_accepted():
    f = feat.compute(_inputs([1.0, 0.05, 0.05], HONEST_PEERS))
    verdict, score, _ = decide(rule_reasons(f), threshold=0.5)
    assert verdict == "accepted"
    assert score < 0.5


def test_sign_flipped_update_is_rejected_for_its_direction():
    f = feat.compute(_inputs([-1.0, -0.05, -0.05], HONEST_PEERS))
    verdict, _, reasons = decide(rule_reasons(f), threshold=0.5)
    assert verdict == "rejected"
    assert reasons[0]["signal"] == "direction"
    assert "cosine -1.00" in reasons[0]["text"]


def test_scaled_update_is_rejected_for_its_norm_with_the_numbers_in_words():
    f = feat.compute(_inputs([10.0, 0.5, 0.5], HONEST_PEERS))
    verdict, _, reasons = decide(rule_reasons(f), threshold=0.5)
    assert verdict == "rejected"
    assert reasons[0]["signal"] == "update_norm"
    assert "10.0x the reference median" in reasons[0]["text"]


def test_reversed_attributions_name_the_most_shifted_feature():
    f = feat.compute(_inputs([1.0, 0.0, 0.0], HONEST_PEERS, attribution=(-1.0, 0.0, 0.2)))
    reasons = {r.signal: r for r in rule_reasons(f)}
    assert reasons["attribution_shift"].severity == 1.0
    assert "`a`" in reasons["attribution_shift"].text


def test_golden_loss_far_above_the_global_model_is_rejected():
    f = feat.compute(_inputs([1.0, 0.0, 0.0], HONEST_PEERS, loss=1.5))
    verdict, _, reasons = decide(rule_reasons(f), threshold=0.5)
    assert verdict == "rejected" and reasons[0]["signal"] == "golden_loss"


def test_first_update_of_a_round_has_no_peer_features():
    f = feat.compute(_inputs([1.0, 0.0, 0.0], [], peer_attribution=None))
    assert f["cos_peers"] is None and f["fp_cos_peers"] is None and f["norm_ratio"] is None


def test_forest_flags_an_outlier_but_not_a_typical_row():
    rng = np.random.default_rng(0)
    history = [[1.0 + 0.05 * rng.standard_normal(), 0.0, 1.0, 0.6, 0.7] for _ in range(200)]
    forest, scores = fit_forest(history)
    typical = forest_reason(forest, scores, history[0])
    outlier = forest_reason(forest, scores, [3.0, -0.3, 6.0, -0.9, -0.8])
    assert typical.severity < 0.5 <= outlier.severity


def test_forest_vector_fills_missing_features_with_neutral_values():
    assert forest_vector({"loss_ratio": 1.2}) == [1.2, 0.0, 1.0, 0.5, 0.5]


def test_fast_anomaly_score_equals_sklearns_score_samples():
    rng = np.random.default_rng(1)
    history = rng.standard_normal((300, 5))
    forest, _ = fit_forest(history.tolist())
    rows = rng.standard_normal((20, 5)) * 2
    assert np.allclose([anomaly(forest, r) for r in rows], -forest.score_samples(rows))

"""From features to a verdict: graded rules plus an Isolation Forest, with reasons in words.

Each signal maps its feature onto a severity in [0, 1] between a value that is fine and one that
is clearly bad; the score is the largest severity, so every rejection is explained by the signal
that caused it. Reasons are ranked by severity and carry the numbers behind them.

Where the `fine` ends come from: honest behaviour only. They sit beyond the most extreme value of
each feature over every honest update of 40 no-attack Fed-Heart-Disease federations (both models,
4 and 8 hospitals, seeds 0-9, never the benchmark's 42-46), with a margin; `bad` is where the
severity reaches 1. bench/results/detection.md lists those honest extremes next to each rule.
These are AURA's defaults; a federation's own calibration (calibration.py) moves them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Reason:
    """One ranked reason: which signal, its value, the reference, and a sentence for a person."""

    signal: str
    severity: float
    value: float | None
    reference: float | None
    text: str


def ramp(value: float, fine: float, bad: float) -> float:
    """0 at `fine`, 1 at `bad`, linear between (either direction)."""
    return float(np.clip((value - fine) / (bad - fine), 0.0, 1.0))


@dataclass(frozen=True)
class Rule:
    """A graded rule on one feature: which evidence family it belongs to, and how to say it."""

    signal: str
    family: str  # golden | geometry | fingerprint (the ablation groups signals by family)
    feature: str
    fine: float
    bad: float
    reference: Callable[[Mapping[str, Any]], float | None]
    say: Callable[[Mapping[str, Any], Rule], str]  # the sentence, from the features and the rule's bounds in force


# The "against the data" index -cos + 3 x slope: where its severity starts and reaches 1 (the
# largest honest value of the default calibration's federations was 1.03).
AGAINST_FINE, AGAINST_BAD = 1.15, 1.35


def _r(key: str) -> Callable[[Mapping[str, Any]], float | None]:
    return lambda f: f.get(key)


RULES: tuple[Rule, ...] = (
    # Golden set: the updated model on the server's own data.
    Rule("golden_loss", "golden", "loss_ratio", 1.03, 1.10, _r("global_loss"), lambda f, r: (
        f"golden-set loss {f['loss']:.3f} vs global {f['global_loss']:.3f} ({f['loss_ratio']:.3f}x; "
        f"fine up to {r.fine:.3g}x)")),
    Rule("golden_slope", "golden", "loss_slope", 0.25, 0.40, lambda f: 0.0, lambda f, r: (
        f"golden-set loss climbs {f['loss_slope']:+.3f} per unit of update norm (honest steps descend or climb "
        f"slowly; fine up to {r.fine:+.3g})")),
    # Own centre's golden rows: honest updates descended them in every calibration update (largest
    # honest slope -0.022, MLP); climbing them at all is training against one's own data.
    Rule("own_rows_slope", "golden", "own_loss_slope", -0.02, 0.02, lambda f: 0.0, lambda f, r: (
        f"loss on the golden rows of the hospital's own centre climbs {f['own_loss_slope']:+.3f} per unit of "
        f"update norm (an honest step on that centre's data descends them; fine up to {r.fine:+.3g})")),
    Rule("golden_accuracy", "golden", "accuracy_delta", -0.12, -0.25, lambda f: 0.0, lambda f, r: (
        f"golden-set accuracy {f['accuracy_delta']:+.3f} vs the global model (fine down to {r.fine:+.3g})")),
    # Geometry: the update as a vector, against the previous round and the round's earlier updates.
    Rule("update_norm", "geometry", "norm_ratio", 3.0, 6.0, _r("median_norm"), lambda f, r: (
        f"update norm {f['update_norm']:.3g} is {f['norm_ratio']:.1f}x the median {f['median_norm']:.3g} of "
        f"{f['norm_reference']} (fine up to {r.fine:.3g}x)")),
    Rule("update_scale", "geometry", "scale_excess", 2.0, 4.0, _r("honest_scale"), lambda f, r: (
        f"update norm {f['update_norm']:.3g} is {f['scale_ratio']:.3f}x the global model's norm, "
        f"{f['scale_excess']:.1f}x the largest ratio an honest update showed in calibration "
        f"({f['honest_scale']:.3f}x; fine up to {r.fine:.3g}x)")),
    Rule("direction", "geometry", "cos_step", -0.9, -0.99, lambda f: 0.0, lambda f, r: (
        f"update direction has cosine {f['cos_step']:+.2f} with the step the other hospitals' accepted updates "
        f"took last round (fine down to {r.fine:+.3g})")),
    Rule("crafted", "geometry", "crafted_residual", 0.15, 0.10, lambda f: 0.15, lambda f, r: (
        f"{f['crafted_residual']:.1%} of the update lies outside the plane of the mean update and per-weight "
        f"spread of {f.get('crafted_reference') or 'the other hospitals last round'} ({f['crafted_others']:.0f} "
        "updates; an update built "
        f"from those statistics, as ALIE, IPM and Min-Max build theirs, has almost none; fine from {r.fine:.0%})")),
    Rule("copy", "geometry", "copy_distance", 0.05, 0.01, lambda f: 0.0, lambda f, r: (
        f"the nearest earlier update of this round, {f['copy_of']}'s, is {f['copy_distance']:.1%} of this "
        f"update's norm away (a copy is within 1%; fine from {r.fine:.0%})")),
    # Attribution fingerprint: how the update moved the SHAP attributions.
    # Golden set and geometry together: a step against the others' last step that also climbs the
    # golden loss is what training on flipped labels (or flipping the update) gives. Either half
    # alone occurs in honest updates (Switzerland's and VA's data differ from the rest).
    Rule("against_the_data", "golden+geometry", "against_data", 0.0, 1.0, _r("against_index"), lambda f, r: (
        f"update goes against the other hospitals' last step (cosine {f['cos_step']:+.2f}) while climbing the "
        f"golden-set loss ({f['loss_slope']:+.3f} per unit norm): index {f['against_index']:.2f} = -cosine + "
        f"3 x slope (fine up to {f['against_fine']:.3g})")),
    Rule("attribution_shift", "fingerprint", "fp_cos", -0.92, -0.99, lambda f: 0.0, lambda f, r: (
        f"attribution change has cosine {f['fp_cos']:+.2f} with the other hospitals' last round "
        f"(fine down to {r.fine:+.3g}); largest departure on `{f['fp_top_feature']}` ({f['fp_top_shift']:+.3f})")),
)
SIGNAL_FAMILY = {rule.signal: rule.family for rule in RULES} | {"isolation_forest": "forest"}


def derived(f: Mapping[str, Any], against: tuple[float, float] = (AGAINST_FINE, AGAINST_BAD),
            slope: tuple[float, float] = (0.10, 0.25)) -> dict[str, Any]:
    """Features combined from others: how much the update goes against the data (direction and golden loss).

    Two graded readings of the same evidence, the larger counts: both halves suspicious at once
    (the smaller of their ramps; `slope` bounds the golden-slope half), or their sum -cos + 3 x slope
    beyond anything honest (`against`: where that index is fine and where clearly bad).
    """
    if f.get("cos_step") is None or f.get("loss_slope") is None:
        return {"against_data": None, "against_index": None, "against_fine": against[0]}
    index = -float(f["cos_step"]) + 3.0 * float(f["loss_slope"])
    both = min(ramp(f["cos_step"], -0.1, -0.4), ramp(f["loss_slope"], *slope))
    return {"against_data": max(both, ramp(index, *against)), "against_index": index, "against_fine": against[0]}


def rule_reasons(f: Mapping[str, Any], rules: Sequence[Rule] = RULES,
                 against: tuple[float, float] = (AGAINST_FINE, AGAINST_BAD),
                 slope: tuple[float, float] = (0.10, 0.25)) -> list[Reason]:
    """The graded rules' reasons for one feature dict (rules whose feature is missing say nothing)."""
    out: list[Reason] = []
    f = {**f, **derived(f, against, slope)}
    for rule in rules:
        value = f.get(rule.feature)
        if value is None:
            continue
        out.append(Reason(rule.signal, ramp(float(value), rule.fine, rule.bad), float(value), rule.reference(f),
                          rule.say(f, rule)))
    return out


def decide(reasons: Sequence[Reason], threshold: float) -> tuple[str, float, list[dict[str, Any]]]:
    """Verdict, score (largest severity) and the reasons ranked, as stored."""
    ranked = sorted(reasons, key=lambda r: (-r.severity, r.signal))
    score = ranked[0].severity if ranked else 0.0
    verdict = "rejected" if score >= threshold else "accepted"
    return verdict, score, [asdict(r) for r in ranked]

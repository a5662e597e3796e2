"""Calibration: the detector's thresholds as fitted to one federation's own honest updates.

AURA's default thresholds (scoring.RULES) sit beyond every honest update of 40 no-attack
Fed-Heart-Disease federations under FLamby's recipe (15 rounds x 100 SGD steps, lr 1e-3; 4 and 8
hospitals; seeds 0-9). Another recipe or another task moves honest updates elsewhere: larger
steps climb the golden loss further, take longer norms and turn further from last round's step.
A federation's calibration is fitted from updates its operator vouches are honest (shadow rounds,
or the first rounds of a run): for each rule, the most extreme honest value plus a margin of
half the rule's default width becomes where the rule starts to object, never tighter than the
default, since a few rounds cannot show the honest tail that 5,400 heart updates did. The rule's
width is kept. The update-scale reference is the largest honest update-to-model norm ratio.

`HONEST_SCALE` is that reference as measured on the heart tasks' calibration federations (largest
values 0.038 MLP, 0.168 logistic regression): the built-in calibration of each heart task's own
default federation, until the operator fits one.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from services.detector.scoring import AGAINST_BAD, AGAINST_FINE, RULES, Rule, derived

HONEST_SCALE: dict[str, float] = {"heart-mlp": 0.033, "heart-logreg": 0.168}
AGAINST = "against_the_data"  # calibrated on its index (-cos + 3 x slope), not on its combined severity
SCALE = "update_scale"  # compares with the honest scale reference, which calibration fits instead of its bounds
MARGIN = 0.5  # of a rule's default width, beyond the most extreme honest value
TAIL = 1.0  # times the distance from the honest median to the most extreme honest value
MIN_VALUES = 8  # fewer honest values of a feature than this leave its rule at the default
SCALE_MARGIN = 1.0  # the scale reference is the largest honest ratio itself; the rule allows 2x of it


@dataclass(frozen=True)
class Calibration:
    """Thresholds in force for a verdict, and the name every verdict records."""

    name: str
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # signal -> (fine, bad)
    honest_scale: float | None = None

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules with this calibration's bounds."""
        return tuple(replace(r, fine=self.bounds[r.signal][0], bad=self.bounds[r.signal][1])
                     if r.signal in self.bounds and r.signal != AGAINST else r for r in RULES)

    @property
    def against(self) -> tuple[float, float]:
        """Where the against-the-data index is fine and where clearly bad."""
        return self.bounds.get(AGAINST, (AGAINST_FINE, AGAINST_BAD))

    @property
    def against_slope(self) -> tuple[float, float]:
        """The golden-slope half of against-the-data: the golden-slope rule's bounds, 0.15 lower (as by default)."""
        fine, bad = self.bounds.get("golden_slope", (0.25, 0.40))
        return fine - 0.15, bad - 0.15


def default_calibration(task: str) -> Calibration:
    """What a federation without a fitted calibration is judged with (the verdict says so)."""
    scale = HONEST_SCALE.get(task)
    return Calibration(name="AURA defaults (Fed-Heart-Disease, FLamby's recipe)", honest_scale=scale)


def _feature(rule: Rule) -> str:
    return "against_index" if rule.signal == AGAINST else rule.feature


def _default_bounds(rule: Rule) -> tuple[float, float]:
    return (AGAINST_FINE, AGAINST_BAD) if rule.signal == AGAINST else (rule.fine, rule.bad)


def _opened(extreme: float, median: float, fine: float, bad: float) -> list[float]:
    """Bounds beyond `extreme` by its distance from the honest median (at least half the width), never tighter."""
    direction = 1.0 if bad > fine else -1.0  # +1: larger values are worse
    width = abs(bad - fine)
    # A few rounds show the honest spread but not its tail, and a wide spread has a long tail.
    start = extreme + direction * max(MARGIN * width, TAIL * abs(extreme - median))
    opened = max(start, fine) if direction > 0 else min(start, fine)
    return [opened, opened + direction * width]


def fit(features: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Fit bounds and the scale reference from honest updates' feature dicts (as decisions store them).

    Returns the JSON stored with a calibration: per rule its bounds, the most extreme honest value
    and how many values it saw; the scale reference.
    """
    rows = [{**f, **derived(f)} for f in features]
    rules: dict[str, dict[str, Any]] = {}
    for rule in RULES:
        fine, bad = _default_bounds(rule)
        if rule.signal == SCALE:  # its reference, the largest honest scale, is what gets fitted (below)
            rules[rule.signal] = {"feature": rule.feature, "values": 0, "default": [fine, bad], "bounds": [fine, bad],
                                  "honest_extreme": None, "kept_default": "its reference is calibrated instead"}
            continue
        worse = max if bad > fine else min
        values = [float(r[_feature(rule)]) for r in rows if r.get(_feature(rule)) is not None]
        entry: dict[str, Any] = {"feature": _feature(rule), "values": len(values), "default": [fine, bad]}
        if len(values) < MIN_VALUES:
            rules[rule.signal] = entry | {"honest_extreme": None, "bounds": [fine, bad],
                                          "kept_default": f"{len(values)} honest values, fewer than {MIN_VALUES}"}
            continue
        bounds = _opened(worse(values), statistics.median(values), fine, bad)
        rules[rule.signal] = entry | {"honest_extreme": worse(values), "bounds": bounds}
    scales = [float(r["scale_ratio"]) for r in rows if r.get("scale_ratio") is not None]
    return {"rules": rules, "honest_updates": len(rows),
            "honest_scale": max(scales) * SCALE_MARGIN if scales else None}


def from_stored(name: str, fitted: Mapping[str, Any]) -> Calibration:
    """The Calibration a stored fit describes."""
    bounds = {signal: (float(e["bounds"][0]), float(e["bounds"][1])) for signal, e in fitted["rules"].items()}
    return Calibration(name=name, bounds=bounds, honest_scale=fitted.get("honest_scale"))

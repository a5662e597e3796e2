"""The Isolation Forest: how unusual an update's features are next to the federation's accepted history.

The rules judge one feature at a time against fixed honest bounds; the forest looks at all of
them together, relative to what this federation's accepted updates looked like in earlier rounds.
It is fitted on that history only (no labels) and compares the update's anomaly score with the
90th percentile of the history's own scores. Isolation-forest scores saturate (an update far
outside the history scores little above the history's own edge points), so the forest speaks
only well past that percentile: from 0.11 above it, the largest excess of an honest update in the
first 16 calibration federations (0.10) plus a margin; over all 40, honest updates reach 0.15
(severity 0.43, below the threshold).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import IsolationForest

from services.detector.scoring import Reason, ramp

FOREST_FEATURES = ("loss_ratio", "loss_slope", "norm_ratio", "scale_ratio", "cos_step", "crafted_residual", "fp_cos")
# Value a missing feature takes in the forest: what an unremarkable update would show.
NEUTRAL = {"loss_ratio": 1.0, "loss_slope": 0.0, "norm_ratio": 1.0, "scale_ratio": 0.05, "cos_step": 0.5,
           "crafted_residual": 0.6, "fp_cos": 0.5}
# How far the update's anomaly score must exceed the history's 90th percentile for the forest to
# speak (severity 0) and to reject on its own (severity 0.5).
QUANTILE = 0.9
MARGIN_FINE, MARGIN_BAD = 0.11, 0.16


def forest_vector(f: Mapping[str, Any]) -> list[float]:
    """The feature dict as the Isolation Forest's input row."""
    return [float(f[k]) if f.get(k) is not None else NEUTRAL[k] for k in FOREST_FEATURES]


@dataclass(frozen=True)
class Forest:
    """A fitted Isolation Forest, its history's own anomaly scores (sorted), and its trees as flat arrays."""

    model: IsolationForest
    history_scores: list[float]
    # Every tree's nodes stacked into one table (children as row numbers in it, -1 at a leaf), so
    # one row walks all trees at once: one numpy step per level instead of one call per tree.
    roots: NDArray[np.intp]
    left: NDArray[np.intp]
    right: NDArray[np.intp]
    feature: NDArray[np.intp]
    threshold: NDArray[np.float64]
    leaf_depth: NDArray[np.float64]  # a leaf's depth plus c(the training points it holds)
    norm: float  # the average path length of a sample of max_samples_, which scores are relative to


def average_path_length(n: NDArray[np.float64]) -> NDArray[np.float64]:
    """c(n): the average path length of an unsuccessful search in a binary search tree of n points.

    Liu, Ting and Zhou, "Isolation Forest", ICDM 2008, eq. 1: c(n) = 2 H(n - 1) - 2 (n - 1) / n with
    H(i) ~ ln(i) + 0.5772156649 (Euler's constant); c(1) = 0 and c(2) = 1. A leaf holding n
    training points adds c(n) to its depth; scores are relative to c(max_samples).
    """
    n = np.asarray(n, dtype=np.float64)
    longer = np.maximum(n - 1.0, 1.0)
    general = 2.0 * (np.log(longer) + np.euler_gamma) - 2.0 * (n - 1.0) / np.maximum(n, 1.0)
    return np.where(n <= 1, 0.0, np.where(n <= 2, 1.0, general))


def _node_depths(children_left: NDArray[np.intp], children_right: NDArray[np.intp]) -> NDArray[np.float64]:
    """Each node's depth, the root's 0 (sklearn numbers a child after its parent)."""
    depth = np.zeros(len(children_left))
    for node in range(len(children_left)):
        if children_left[node] != -1:
            depth[children_left[node]] = depth[children_right[node]] = depth[node] + 1.0
    return depth


def _stacked(model: IsolationForest, history_scores: list[float]) -> Forest:
    # Built from the fitted trees' public arrays only (tree_, estimators_features_, max_samples_).
    left, right, feature, threshold, leaf_depth, roots = [], [], [], [], [], []
    offset = 0
    for tree, features in zip(model.estimators_, model.estimators_features_, strict=True):
        t = tree.tree_
        leaf = t.children_left == -1
        roots.append(offset)
        left.append(np.where(leaf, -1, t.children_left + offset))
        right.append(np.where(leaf, -1, t.children_right + offset))
        feature.append(np.where(leaf, 0, np.asarray(features)[np.maximum(t.feature, 0)]))
        threshold.append(t.threshold)
        leaf_depth.append(_node_depths(t.children_left, t.children_right) + average_path_length(t.n_node_samples))
        offset += t.node_count
    return Forest(model, history_scores, roots=np.asarray(roots, dtype=np.intp),
                  left=np.concatenate(left).astype(np.intp), right=np.concatenate(right).astype(np.intp),
                  feature=np.concatenate(feature).astype(np.intp), threshold=np.concatenate(threshold),
                  leaf_depth=np.concatenate(leaf_depth),
                  norm=float(len(model.estimators_) * average_path_length(np.asarray([model.max_samples_]))[0]))


def fit_forest(history: Sequence[Sequence[float]]) -> Forest:
    """An Isolation Forest over accepted history, with the history's own anomaly scores."""
    model = IsolationForest(n_estimators=100, random_state=0).fit(np.asarray(history))
    scores = sorted((-model.score_samples(np.asarray(history))).tolist())
    return _stacked(model, scores)


def anomaly(forest: Forest, row: Sequence[float]) -> float:
    """The forest's anomaly score of one row: -score_samples, computed without joblib.

    sklearn's score_samples dispatches every tree through joblib (~5 ms for one row) and a loop
    over the trees' own `apply` still costs ~0.7 ms; walking the stacked table takes one step per
    tree level. It uses only the fitted trees' public arrays and the paper's formula; a test checks
    it against score_samples.
    """
    # sklearn compares the row cast to float32 with float64 thresholds: do the same.
    x = np.asarray(row, dtype=np.float32).astype(np.float64)
    node = forest.roots
    while True:
        left = forest.left[node]
        inner = left != -1
        if not inner.any():
            break
        step = np.where(x[forest.feature[node]] <= forest.threshold[node], left, forest.right[node])
        node = np.where(inner, step, node)
    # Summed tree by tree, in order (accumulate is sequential; a pairwise sum could differ in the
    # last bit, and a verdict at a threshold must not depend on how it was computed).
    depth = float(np.add.accumulate(forest.leaf_depth[node])[-1])
    return float(2.0 ** (-depth / forest.norm))


def forest_reason(forest: Forest, row: Sequence[float]) -> Reason:
    """How far the update's anomaly score lies beyond the 90th percentile of the federation's accepted history."""
    history_scores = forest.history_scores
    score = anomaly(forest, row)
    edge = float(np.quantile(history_scores, QUANTILE))
    severity = ramp(score - edge, MARGIN_FINE, MARGIN_FINE + 2 * (MARGIN_BAD - MARGIN_FINE))
    return Reason("isolation_forest", severity, score, edge,
                  f"isolation-forest anomaly {score:.3f} vs {edge:.3f} at the 90th percentile of the federation's "
                  f"{len(history_scores)} accepted updates (fine up to +{MARGIN_FINE:.2f})")

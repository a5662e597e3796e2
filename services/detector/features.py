"""Detector features: what the evaluation, the fingerprint and the update's geometry say.

Pure functions. Each feature compares the update with a reference that needs no labels of who
attacks: the round's global model, the updates of the round that arrived earlier, or accepted
history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float64]


def cosine(a: Vector, b: Vector) -> float | None:
    """Cosine similarity, None when either vector is (near) zero."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < 1e-12 or nb < 1e-12:
        return None
    return float(np.dot(a, b) / (na * nb))


@dataclass(frozen=True)
class Inputs:
    """Everything one verdict is computed from."""

    update_metrics: Mapping[str, float | None]
    global_metrics: Mapping[str, float | None]
    update: Vector  # flattened weights of the update
    global_weights: Vector  # flattened weights of the round's global model
    peers: Sequence[Vector]  # flattened weights of the round's earlier updates
    history_norms: Sequence[float]  # update norms of accepted history (fallback reference)
    feature_names: Sequence[str]
    attribution: Sequence[float]
    attribution_global: Sequence[float]
    attribution_peers: Sequence[float] | None


def compute(inputs: Inputs) -> dict[str, float | str | None]:
    """The feature dict of one update (None where a reference does not exist yet)."""
    u, g = inputs.update_metrics, inputs.global_metrics
    delta = inputs.update - inputs.global_weights
    norm = float(np.linalg.norm(delta))
    peer_deltas = [p - inputs.global_weights for p in inputs.peers]
    peer_norms = [float(np.linalg.norm(d)) for d in peer_deltas]
    reference_norms = peer_norms if len(peer_norms) >= 2 else list(inputs.history_norms)
    median_norm = float(np.median(reference_norms)) if reference_norms else None

    fp = np.asarray(inputs.attribution)
    fp_global = np.asarray(inputs.attribution_global)
    fp_cos_peers = None
    top_feature, top_shift = None, None
    if inputs.attribution_peers is not None:
        fp_peers = np.asarray(inputs.attribution_peers)
        # Compare how the update moved the attributions with how its peers moved them.
        fp_cos_peers = cosine(fp - fp_global, fp_peers - fp_global)
        shift = fp - fp_peers
        top = int(np.argmax(np.abs(shift)))
        top_feature, top_shift = inputs.feature_names[top], float(shift[top])

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None or b <= 1e-12 else a / b

    def diff(key: str) -> float | None:
        a, b = u.get(key), g.get(key)
        return None if a is None or b is None else a - b

    return {
        "loss": u.get("loss"),
        "global_loss": g.get("loss"),
        "loss_ratio": ratio(u.get("loss"), g.get("loss")),
        "accuracy_delta": diff("accuracy"),
        "auc_delta": diff("auc"),
        "update_norm": norm,
        "median_norm": median_norm,
        "norm_ratio": ratio(norm, median_norm),
        "cos_peers": cosine(delta, np.mean(peer_deltas, axis=0)) if peer_deltas else None,
        "n_peers": float(len(peer_deltas)),
        "fp_cos_peers": fp_cos_peers,
        "fp_top_feature": top_feature,
        "fp_top_shift": top_shift,
    }

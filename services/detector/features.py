"""Detector features: what the golden set, the update's geometry and its fingerprint say.

Pure functions. Every feature compares the update with a reference that needs no knowledge of
who attacks, and that is fixed when the update arrives:
- the round's global model and the server's golden set (always);
- the federation's previous round as AURA decided it: the global model it started from and the
  updates it accepted (from a federation's second round on; that round is closed, so this
  reference is the same whatever order the workers run in);
- the updates of this round that arrived earlier (copies; a norm scale in a first round).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Vector = NDArray[np.float64]
Features = dict[str, float | str | None]


def cosine(a: Vector, b: Vector) -> float | None:
    """Cosine similarity, None when either vector is (near) zero."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < 1e-12 or nb < 1e-12:
        return None
    return float(np.dot(a, b) / (na * nb))


@dataclass(frozen=True)
class PreviousRound:
    """The federation's previous round: its global model, and the updates AURA accepted in it."""

    global_weights: Vector
    accepted: Mapping[str, Vector]  # hospital -> flattened weights it sent
    accepted_attributions: Mapping[str, Sequence[float]] = field(default_factory=dict)  # hospital -> fp shift
    examples: Mapping[str, float] = field(default_factory=dict)  # hospital -> examples it trained on (weight)


def continues(previous: PreviousRound, global_weights: Vector) -> bool:
    """Whether `global_weights` is an aggregate of what `previous` accepted: the same federation's next round.

    FedAvg, medians, trimmed means, Krum and clipping all move every weight to within the range of
    the accepted updates' changes (or not at all); the global model of another federation that
    happens to use the next round number does not.
    """
    step = global_weights - previous.global_weights
    if not previous.accepted:
        return bool(np.allclose(step, 0.0, rtol=0.0, atol=1e-7))  # nothing accepted: the model stayed
    deltas = np.stack([w - previous.global_weights for w in previous.accepted.values()])
    low, high = np.minimum(deltas.min(axis=0), 0.0), np.maximum(deltas.max(axis=0), 0.0)
    slack = 1e-5 * float(np.abs(deltas).max()) + 1e-7  # float32 rounding of the stored models
    return bool(np.all(step >= low - slack) and np.all(step <= high + slack))


@dataclass(frozen=True)
class Inputs:
    """Everything one verdict is computed from."""

    hospital: str
    update_metrics: Mapping[str, float | None]  # golden-set metrics of the updated model
    global_metrics: Mapping[str, float | None]  # ... and of the round's global model
    update: Vector  # flattened weights of the update
    global_weights: Vector  # flattened weights of the round's global model
    peers: Mapping[str, Vector]  # flattened weights of the round's earlier updates, by hospital
    previous: PreviousRound | None  # None in the federation's first round
    feature_names: Sequence[str]
    attribution: Sequence[float]  # mean SHAP value per feature of the updated model
    attribution_global: Sequence[float]  # ... of the global model
    honest_scale: float | None = None  # the task's calibrated largest honest update/model norm ratio


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 1e-12 else a / b


def golden(inputs: Inputs, norm: float) -> Features:
    """How the update changes the model on the golden set."""
    u, g = inputs.update_metrics, inputs.global_metrics

    def diff(key: str) -> float | None:
        a, b = u.get(key), g.get(key)
        return None if a is None or b is None else a - b

    loss_change, own_change = diff("loss"), diff("own_centre_loss")
    return {
        "loss": u.get("loss"), "global_loss": g.get("loss"), "loss_ratio": _ratio(u.get("loss"), g.get("loss")),
        # Golden loss gained per unit of update norm: a descent step on real data of any centre
        # rarely climbs the golden loss steeply; a step against the data (flipped) does.
        "loss_slope": None if loss_change is None or norm < 1e-12 else loss_change / norm,
        # The same on the golden rows of the hospital's own centre: a sample of the data it trains
        # on, so an honest step descends it, whatever that centre's prevalence.
        "own_loss_slope": None if own_change is None or norm < 1e-12 else own_change / norm,
        "accuracy_delta": diff("accuracy"), "auc_delta": diff("auc"),
    }


def crafted_residual(delta: Vector, others: Sequence[Vector]) -> float | None:
    """Share of the update (by norm) outside the plane of the others' mean update and per-weight spread.

    ALIE (mu - z sigma), IPM (-eps mu) and Min-Max (mu + gamma p, p = -mu/|mu| or -sigma) send an
    update built from exactly these two vectors: their residual is near 0, a trained update's is not.
    """
    if len(others) < 2 or float(np.linalg.norm(delta)) < 1e-12:
        return None
    stacked = np.asarray(others)
    basis = np.stack([stacked.mean(axis=0), stacked.std(axis=0)], axis=1)
    coef, *_ = np.linalg.lstsq(basis, delta, rcond=None)
    return float(np.linalg.norm(delta - basis @ coef) / np.linalg.norm(delta))


def geometry(inputs: Inputs, delta: Vector) -> Features:
    """Size and direction of the update against the previous round, and copies of earlier peers."""
    norm = float(np.linalg.norm(delta))
    scale = _ratio(norm, float(np.linalg.norm(inputs.global_weights)))
    out: Features = {"update_norm": norm, "scale_ratio": scale, "honest_scale": inputs.honest_scale,
                     "scale_excess": _ratio(scale, inputs.honest_scale),
                     "n_peers": float(len(inputs.peers)), "norm_reference": None, "cos_step": None,
                     "crafted_residual": None, "crafted_others": None, "crafted_reference": None,
                     "copy_distance": None, "copy_of": None}
    prev = inputs.previous
    reference_norms: list[float] = []
    # The hospital's own previous update is never its reference: had an attacker's first update
    # slipped through, it would otherwise vouch for the next one.
    others = {h: w - prev.global_weights for h, w in prev.accepted.items() if h != inputs.hospital} if prev else {}
    if others:
        reference_norms = [float(np.linalg.norm(d)) for d in others.values()]
        out["norm_reference"] = "the other hospitals' accepted updates last round"
        # The step the others took last round (FedAvg of their accepted updates): where training went.
        assert prev is not None
        step = sum((prev.examples.get(h, 1.0) * d for h, d in others.items()), np.zeros_like(delta))
        out["cos_step"] = cosine(delta, step)
        out["crafted_residual"] = crafted_residual(delta, list(others.values()))
        out["crafted_others"] = float(len(others))
        out["crafted_reference"] = "the other hospitals' accepted updates last round"
    elif len(inputs.peers) >= 2:
        # A first round: the round's earlier updates are the only statistics an omniscient attacker
        # could have built its update from that exist yet.
        earlier = [p - inputs.global_weights for p in inputs.peers.values()]
        reference_norms = [float(np.linalg.norm(d)) for d in earlier]
        out["norm_reference"] = "this round's earlier updates"
        out["crafted_residual"] = crafted_residual(delta, earlier)
        out["crafted_others"] = float(len(earlier))
        out["crafted_reference"] = "this round's earlier updates"
    median_norm = float(np.median(reference_norms)) if reference_norms else None
    out["median_norm"], out["norm_ratio"] = median_norm, _ratio(norm, median_norm)
    if inputs.peers and norm > 1e-12:
        # A copy of an earlier update of the round (colluding attackers send the same crafted one).
        distances = {h: float(np.linalg.norm(inputs.update - p)) / norm for h, p in inputs.peers.items()}
        nearest = min(distances, key=lambda h: (distances[h], h))
        out["copy_distance"], out["copy_of"] = distances[nearest], nearest
    return out


def fingerprint(inputs: Inputs) -> Features:
    """How the update moved the attributions, against how the previous round's other accepted updates did."""
    shift = np.asarray(inputs.attribution, dtype=np.float64) - np.asarray(inputs.attribution_global, dtype=np.float64)
    prev = inputs.previous
    others = [np.asarray(v, dtype=np.float64) for h, v in (prev.accepted_attributions.items() if prev else [])
              if h != inputs.hospital]
    if not others:
        return {"fp_cos": None, "fp_top_feature": None, "fp_top_shift": None}
    reference = np.mean(others, axis=0)
    top = int(np.argmax(np.abs(shift - reference)))
    return {"fp_cos": cosine(shift, reference), "fp_top_feature": inputs.feature_names[top],
            "fp_top_shift": float(shift[top])}


def compute(inputs: Inputs) -> Features:
    """The feature dict of one update (None where a reference does not exist yet)."""
    delta = inputs.update - inputs.global_weights
    shape = geometry(inputs, delta)
    return {**golden(inputs, float(shape["update_norm"] or 0.0)), **shape, **fingerprint(inputs)}

"""What a task's model predicts and how it is scored: its training loss, golden-set metrics, explained output.

Two objectives cover the built-in tasks: a binary one (the model returns one logit per row) and a
multi-class one (one logit per class). A task with another kind of output brings an object with
the same three methods.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
import torch
from numpy.typing import NDArray

Metrics = dict[str, float | None]


class Objective(Protocol):
    """How a task's model outputs are trained, scored and explained."""

    name: str

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Mean training loss of a batch (what hospitals minimise; differentiable)."""
        ...

    def metrics(self, outputs: NDArray[np.floating], labels: NDArray[np.floating]) -> Metrics:
        """Golden-set metrics; must include `loss` and `accuracy` (the detector compares those)."""
        ...

    def explained(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The scalar per row that attributions explain (shape (n,))."""
        ...

    def predicted(self, outputs: NDArray[np.floating]) -> NDArray[np.float32]:
        """The label the model predicts for each row (what a backdoor's success is counted on)."""
        ...


class Binary:
    """One logit per row; labels 0/1. Loss is BCE-with-logits; the explained output is the logit."""

    name = "binary"

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """BCE with logits."""
        return torch.nn.functional.binary_cross_entropy_with_logits(outputs.reshape(-1), labels.float())

    def metrics(self, outputs: NDArray[np.floating], labels: NDArray[np.floating]) -> Metrics:
        """BCE loss, accuracy at 0.5, balanced accuracy and AUC (None when only one class is present)."""
        return binary_metrics(np.asarray(outputs).reshape(-1), labels)

    def explained(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The logit."""
        return outputs.reshape(-1)

    def predicted(self, outputs: NDArray[np.floating]) -> NDArray[np.float32]:
        """1 where the logit is positive, else 0."""
        return (np.asarray(outputs).reshape(-1) > 0.0).astype(np.float32)


class MultiClass:
    """One logit per class, labels class indices; cross-entropy loss; explains the true class's logit."""

    name = "multiclass"

    def loss(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Cross-entropy."""
        return torch.nn.functional.cross_entropy(outputs, labels.long())

    def metrics(self, outputs: NDArray[np.floating], labels: NDArray[np.floating]) -> Metrics:
        """Cross-entropy, accuracy, balanced accuracy (mean recall of the classes present); no AUC."""
        z = np.asarray(outputs, dtype=np.float64)
        y = np.asarray(labels).astype(np.int64)
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = float(-np.mean(log_p[np.arange(len(y)), y]))
        pred = z.argmax(axis=1)
        recalls = [float(np.mean(pred[y == c] == c)) for c in np.unique(y)]
        return {"loss": loss if math.isfinite(loss) else None, "accuracy": float(np.mean(pred == y)),
                "balanced_accuracy": float(np.mean(recalls)), "auc": None, "n": float(len(y))}

    def explained(self, outputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The logit of each row's true class: the evidence the model finds for the right answer."""
        return outputs.gather(1, labels.long().reshape(-1, 1)).reshape(-1)

    def predicted(self, outputs: NDArray[np.floating]) -> NDArray[np.float32]:
        """The class with the largest logit."""
        return np.asarray(np.asarray(outputs).argmax(axis=1), dtype=np.float32)


BINARY = Binary()
MULTICLASS = MultiClass()


def binary_metrics(logits: NDArray[np.floating], labels: NDArray[np.floating]) -> Metrics:
    """BCE loss, accuracy at 0.5, balanced accuracy and AUC (None when only one class is present)."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    # log(1 + e^z) - y*z is BCE-with-logits written so that large |z| does not overflow.
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
    pred = z > 0.0
    truth = y > 0.5
    accuracy = float(np.mean(pred == truth))
    recalls = [float(np.mean(pred[truth == c] == c)) for c in (False, True) if np.any(truth == c)]
    balanced = float(np.mean(recalls))
    auc = _auc(z, truth) if len(recalls) == 2 else None
    return {
        "loss": loss if math.isfinite(loss) else None,
        "accuracy": accuracy,
        "balanced_accuracy": balanced,
        "auc": auc,
        "n": float(len(y)),
    }


def _auc(scores: NDArray[np.float64], truth: NDArray[np.bool_]) -> float:
    """ROC AUC as the Mann-Whitney U statistic (ties count half), without sklearn's ~3 ms of checks."""
    ranks = _average_ranks(scores)
    n_pos = int(truth.sum())
    n_neg = len(truth) - n_pos
    return float((ranks[truth].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _average_ranks(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """1-based ranks, ties sharing their mean rank (scipy's rankdata costs ~1 ms of checks per call)."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    # Each run of equal values spans positions [start, end); all of it gets rank (start + 1 + end) / 2.
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], len(values)]
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.repeat((starts + 1 + ends) / 2.0, ends - starts)
    return ranks

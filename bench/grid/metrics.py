"""Detection metrics on per-update verdicts: confusion counts, TPR/FPR, and the AUROC of a score.

Pure functions. "Positive" means malicious: a true positive is a malicious update rejected, a
false positive an honest update rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import rankdata


@dataclass(frozen=True)
class Counts:
    """Confusion counts of a detector over some updates."""

    tp: int
    fp: int
    tn: int
    fn: int

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.tn + other.tn, self.fn + other.fn)

    @property
    def tpr(self) -> float | None:
        """Share of malicious updates rejected (None when there were none)."""
        positives = self.tp + self.fn
        return self.tp / positives if positives else None

    @property
    def fpr(self) -> float | None:
        """Share of honest updates rejected (None when there were none)."""
        negatives = self.fp + self.tn
        return self.fp / negatives if negatives else None

    def as_dict(self) -> dict[str, int | float | None]:
        """The counts with TPR and FPR, as stored in the results."""
        return {"tp": self.tp, "fp": self.fp, "tn": self.tn, "fn": self.fn, "tpr": self.tpr, "fpr": self.fpr}


def counts(malicious: Sequence[bool], rejected: Sequence[bool]) -> Counts:
    """Confusion counts from per-update truth (malicious or not) and verdicts (rejected or not)."""
    if len(malicious) != len(rejected):
        raise ValueError(f"{len(malicious)} labels but {len(rejected)} verdicts")
    m, r = np.asarray(malicious, dtype=bool), np.asarray(rejected, dtype=bool)
    return Counts(int(np.sum(m & r)), int(np.sum(~m & r)), int(np.sum(~m & ~r)), int(np.sum(m & ~r)))


def auroc(scores: Sequence[float], malicious: Sequence[bool]) -> float | None:
    """Probability that a malicious update scores above an honest one (ties count half); None without both."""
    s, m = np.asarray(scores, dtype=np.float64), np.asarray(malicious, dtype=bool)
    n_pos, n_neg = int(m.sum()), int((~m).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(s)  # Mann-Whitney U: average ranks give ties half a win
    return float((ranks[m].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def tpr_at_fpr(scores: Sequence[float], malicious: Sequence[bool], max_fpr: float) -> tuple[float, float] | None:
    """The best TPR of any score threshold whose FPR is at most `max_fpr`, and that threshold."""
    s, m = np.asarray(scores, dtype=np.float64), np.asarray(malicious, dtype=bool)
    if not m.any() or m.all():
        return None
    best: tuple[float, float] | None = None
    for threshold in np.unique(s):
        rejected = s >= threshold
        c = counts(m.tolist(), rejected.tolist())
        if (c.fpr or 0.0) <= max_fpr and (best is None or (c.tpr or 0.0) > best[0]):
            best = (c.tpr or 0.0, float(threshold))
    return best or (0.0, float("inf"))

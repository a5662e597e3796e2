"""The report's figures (matplotlib, Agg backend): accuracy by attack, AURA's scores, accuracy per centre."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import numpy as np

from bench.grid.grid import NO_ATTACK

COLOURS = {"fedavg": "#7f7f7f", "aura": "#d62728", "krum": "#1f77b4", "multikrum": "#aec7e8", "bulyan": "#9467bd",
           "fedmedian": "#2ca02c", "fedtrimmedavg": "#98df8a", "clipping": "#ff7f0e"}


def accuracy_by_attack(task: str, defences: dict[str, Any], path: Path) -> None:
    """Grouped bars: mean pooled accuracy per attack (and without attack) for every defence."""
    attacks = [NO_ATTACK, *sorted({a for s in defences.values() for a in s["accuracy_by_attack"]})]
    fig, ax = plt.subplots(figsize=(12, 4.5))
    width = 0.8 / max(len(defences), 1)
    for i, (name, summary) in enumerate(defences.items()):
        values = [summary["no_attack"]["pooled_accuracy"] if a == NO_ATTACK else summary["accuracy_by_attack"].get(a)
                  for a in attacks]
        xs = np.arange(len(attacks)) + (i - (len(defences) - 1) / 2) * width
        ax.bar(xs, [v if v is not None else 0.0 for v in values], width, label=name,
               color=COLOURS.get(name), edgecolor="black" if name == "aura" else "none", linewidth=0.6)
    clean = defences.get("fedavg", {}).get("no_attack", {}).get("pooled_accuracy")
    if clean is not None:
        ax.axhline(clean, color="black", linestyle="--", linewidth=0.8, label="FedAvg, no attack")
    ax.set_xticks(np.arange(len(attacks)), attacks, rotation=20)
    ax.set_ylabel("pooled test accuracy (mean over attackers, seeds)")
    ax.set_ylim(0.3, 0.85)
    ax.set_title(f"{task}: final accuracy by attack and defence")
    ax.legend(ncol=5, fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def score_distribution(task: str, honest: list[float], malicious: list[float], threshold: float, path: Path) -> None:
    """Histogram of AURA's score for honest and for malicious updates, with the threshold."""
    fig, ax = plt.subplots(figsize=(7, 4))
    bins = [i / 40 for i in range(41)]
    ax.hist(honest, bins=bins, alpha=0.7, label=f"honest ({len(honest)})", color="#2ca02c")
    ax.hist(malicious, bins=bins, alpha=0.7, label=f"malicious ({len(malicious)})", color="#d62728")
    ax.axvline(threshold, color="black", linestyle="--", linewidth=0.8, label=f"threshold {threshold}")
    ax.set_yscale("log")
    ax.set_xlabel("AURA score (largest signal severity)")
    ax.set_ylabel("updates")
    ax.set_title(f"{task}: AURA's score, honest vs malicious updates")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def centre_accuracy(task: str, defences: dict[str, Any], path: Path) -> None:
    """Each centre's test accuracy without attack, per defence."""
    centres = sorted({c for s in defences.values() for c in s["no_attack"]["centres"]})
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / max(len(defences), 1)
    for i, (name, summary) in enumerate(defences.items()):
        values = [summary["no_attack"]["centres"].get(c) or 0.0 for c in centres]
        xs = np.arange(len(centres)) + (i - (len(defences) - 1) / 2) * width
        ax.bar(xs, values, width, label=name, color=COLOURS.get(name),
               edgecolor="black" if name == "aura" else "none", linewidth=0.6)
    ax.set_xticks(np.arange(len(centres)), centres)
    ax.set_ylabel("test accuracy without attack (mean over seeds)")
    ax.set_ylim(0.0, 1.0)
    ax.set_title(f"{task}: accuracy of each centre, no attack")
    ax.legend(ncol=4, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

"""What each family of evidence adds: AURA's verdicts replayed with some signals switched off.

Each vetted update's stored reasons hold every signal's severity, so a detector that lacks a
family is the same verdict rule (largest remaining severity >= the threshold) over fewer
signals. This replays the verdicts on the very updates of the benchmark's runs; it does not re-run
the federations (where a different verdict would also change later rounds' global models).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from bench.grid.metrics import Counts, auroc, counts
from services.detector.scoring import SIGNAL_FAMILY

# Which evidence each signal rests on, as the detector declares it: a family such as
# "golden+geometry" (`against_the_data`) needs both, so it goes whenever either is switched off.
FAMILIES: dict[str, frozenset[str]] = {signal: frozenset(family.split("+")) for signal, family in SIGNAL_FAMILY.items()}
THRESHOLD = 0.5  # the detector threshold in force in the benchmark (settings.detector_threshold)


def _keep_without(family: str) -> Callable[[str], bool]:
    return lambda signal: family not in FAMILIES.get(signal, frozenset())


def _keep_only(family: str) -> Callable[[str], bool]:
    return lambda signal: FAMILIES.get(signal, frozenset()) == frozenset({family})


VARIANTS: dict[str, Callable[[str], bool]] = {
    "all signals (AURA)": lambda signal: True,
    **{f"without {f}": _keep_without(f) for f in ("golden", "geometry", "fingerprint", "forest")},
    **{f"{f} only": _keep_only(f) for f in ("golden", "geometry", "fingerprint", "forest")},
}


def replay(updates: Iterable[dict[str, Any]], keep: Callable[[str], bool]) -> tuple[Counts, float | None]:
    """Counts and score AUROC of the verdict rule over the kept signals only."""
    truth, rejected, scores = [], [], []
    for u in updates:
        score = max((s for name, s in u["signals"].items() if keep(name)), default=0.0)
        truth.append(bool(u["malicious"]))
        rejected.append(score >= THRESHOLD)
        scores.append(score)
    return counts(truth, rejected), auroc(scores, truth)


def ablation(aura_runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """TPR, FPR and AUROC of every variant over all updates AURA vetted in these runs."""
    updates = [u for r in aura_runs if r.get("status") == "ok" for u in r.get("updates", [])]
    if not updates:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for name, keep in VARIANTS.items():
        c, area = replay(updates, keep)
        out[name] = {**c.as_dict(), "auroc": area}
    return out

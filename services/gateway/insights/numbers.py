"""Small pure helpers over lists of numbers and rows (no I/O): percentiles, histograms, days."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.models import as_utc


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def seconds_between(start: datetime, end: datetime) -> float:
    """Elapsed seconds, whatever mix of naive and aware datetimes the database returned."""
    return (as_utc(end) - as_utc(start)).total_seconds()


def day_of(moment: datetime) -> str:
    """The UTC calendar day as YYYY-MM-DD (the dashboard's grouping key)."""
    return as_utc(moment).date().isoformat()


def histogram(values: Sequence[float], bins: int, low: float, high: float) -> list[int]:
    """Counts in `bins` equal bins over [low, high]; values outside are clamped into the end bins."""
    counts = [0] * bins
    width = (high - low) / bins
    for v in values:
        counts[min(bins - 1, max(0, int((v - low) / width)))] += 1
    return counts


def top_signal(reasons: Any) -> str:
    """The signal of the first (highest-ranked) reason, or 'unexplained' when there is none."""
    if isinstance(reasons, list) and reasons and isinstance(reasons[0], dict):
        return str(reasons[0].get("signal", "unexplained"))
    return "unexplained"

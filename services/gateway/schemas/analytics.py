"""The gateway's response and request models of the analytics views (see the package docstring)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class DailyPoint(BaseModel):
    """One UTC day's submissions and verdicts."""

    day: str
    submitted: int
    accepted: int
    rejected: int
    errors: int
    pending: int
    time_to_verdict_p50_s: float | None


class HospitalAttacks(BaseModel):
    """One hospital's rejections next to its submissions, and which signals caught them."""

    hospital_id: str
    submitted: int
    rejected: int
    signals: dict[str, int]


class DailySignals(BaseModel):
    """One day's rejections per signal."""

    day: str
    signals: dict[str, int]


class Attacks(BaseModel):
    """Rejections by signal, by hospital, and by signal over time."""

    by_signal: list[SignalCount]
    by_hospital: list[HospitalAttacks]
    daily: list[DailySignals]


class ScoreDistribution(BaseModel):
    """Anomaly scores of decided updates, binned over [0, 1], and the threshold in force."""

    bin_edges: list[float]
    accepted: list[int]
    rejected: list[int]
    threshold: float
    accepted_p50: float | None
    accepted_p95: float | None


class SignalCount(BaseModel):
    """How many rejections a signal was the first reason for."""

    signal: str
    count: int


class StatsSummary(BaseModel):
    """Headline numbers (a hospital key gets its own)."""

    submissions_total: int
    submissions_today: int
    in_pipeline: int
    accepted: int
    rejected: int
    errors: int
    acceptance_rate: float | None
    rejections_by_signal: list[SignalCount]
    time_to_verdict_p50_s: float | None
    time_to_verdict_p95_s: float | None
    ledger_size: int
    checkpoint_size: int | None
    checkpoint_root: str | None
    checkpoint_at: datetime | None


class RoundPoint(BaseModel):
    """One submission of the hospital, one per (task, round)."""

    submission_id: str
    task: str
    round: int
    status: str
    verdict: str | None
    score: float | None
    threshold: float | None
    top_signal: str | None
    drift_from_global: float | None
    drift_from_previous: float | None
    created_at: datetime


class HospitalHistory(BaseModel):
    """Every round the hospital took part in, oldest first, and its acceptance rate."""

    hospital_id: str
    name: str
    submissions: int
    accepted: int
    rejected: int
    acceptance_rate: float | None
    rounds: list[RoundPoint]

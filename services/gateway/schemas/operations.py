"""The gateway's response and request models of the operations views (see the package docstring)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.gateway.limits import Identifier, InputModel, NonNegative
from shared.models import Role


class QueueOut(BaseModel):
    """One stage's queue: messages waiting (None when the broker could not say) and who consumes it."""

    stage: str
    task: str
    depth: int | None
    workers: list[str]


class WorkerOut(BaseModel):
    """A worker that beat recently, the queues it consumes and when it last beat."""

    name: str
    queues: list[str]
    beat_at: datetime
    started_at: datetime


class PipelineHealth(BaseModel):
    """Queues in stage order, workers online, and alerts in words."""

    broker: str
    queues: list[QueueOut]
    workers: list[WorkerOut]
    alerts: list[str]


class CodeCount(BaseModel):
    """How often a refusal code occurred."""

    code: str
    count: int
    auth: bool


class RefusalOut(BaseModel):
    """A refused request, with its repeats within the minute from the same client (`count`)."""

    id: int
    hospital_id: str | None
    client: str | None
    code: str
    message: str
    count: int
    created_at: datetime
    last_at: datetime | None


class DailyRefusals(BaseModel):
    """One UTC day's refused uploads and failed authentications."""

    day: str
    uploads: int
    auth: int


class SecuritySummary(BaseModel):
    """Refusals in the window: totals, by code, by hospital, per day, and the latest few."""

    days: int
    refused_uploads: int
    failed_auth: int
    by_code: list[CodeCount]
    by_hospital: dict[str, int]
    daily: list[DailyRefusals]
    recent: list[RefusalOut]


class FeatureStats(BaseModel):
    """One feature's distribution in a partition."""

    name: str
    mean: float
    std: float
    min: float
    q25: float
    median: float
    q75: float
    max: float


class PartitionStats(BaseModel):
    """One partition: size, class balance, per-feature statistics."""

    name: str
    role: str
    rows: int
    positives: int
    positive_rate: float | None
    features: list[FeatureStats]


class DatasetSummary(BaseModel):
    """A task's data: the golden set, each centre's train and test partitions, and where golden rows came from."""

    task: str
    feature_space: str
    golden: PartitionStats
    golden_by_centre: dict[str, int]
    partitions: list[PartitionStats]


class Me(BaseModel):
    """The caller as its key describes it; the dashboard decides which views to show from this."""

    role: str
    hospital_id: str | None
    hospital_name: str | None


class KeyOut(BaseModel):
    """An API key's record; the key itself is never stored, only its first characters."""

    id: int
    prefix: str
    role: str
    hospital_id: str | None
    created_at: datetime
    revoked_at: datetime | None
    purpose: str | None = Field(None, description="why it was minted (e.g. the run it serves); None: by an admin")


class KeyIssued(KeyOut):
    """A new key with its secret, shown this once."""

    api_key: str


class KeyIn(BaseModel):
    """A key to issue: a hospital key names its hospital; operator and admin keys name none."""

    role: Role
    hospital_id: Identifier | None = None


class AttackIn(InputModel):
    """One attacking hospital."""

    hospital: Identifier = Field(examples=["switzerland"])
    attack: Identifier = Field(examples=["scaling"])
    params: dict[str, Any] = Field(default_factory=dict, max_length=20)


class FederatedRunIn(InputModel):
    """A federated run to start (FLamby's Fed-Heart-Disease protocol by default)."""

    task: Identifier = "heart-logreg"
    hospitals: Literal[4, 8, 12] = 4  # the four centres, or each cut into 2 or 3 hospitals
    rounds: int = Field(15, ge=1, le=200)
    local_steps: int = Field(100, ge=1, le=10_000)
    seed: NonNegative = 42
    strategy: Identifier = "fedavg"
    attacks: list[AttackIn] = Field(default_factory=list, max_length=24)
    vetted: bool = True  # through AURA; False runs plain Flower for comparison
    runner: Literal["inprocess", "simulation"] = "inprocess"


class RunOut(BaseModel):
    """A run: its configuration, status and results so far."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    status: str
    config: dict[str, Any]
    results: dict[str, Any]
    model_sha256: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime


class RunPage(BaseModel):
    """One page of runs, newest first."""

    total: int
    items: list[RunOut]

"""SQLAlchemy models: PostgreSQL (or embedded SQLite) is the source of truth for all state.

Each pipeline stage writes its own table keyed by submission id, so a redelivered message finds
its row and does nothing twice.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """The moment as aware UTC (SQLite hands back naive datetimes that were stored as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def new_id() -> str:
    """A fresh random identifier."""
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    """Declarative base of all AURA tables."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONType, list[Any]: JSONType}


class Role(enum.StrEnum):
    """What an API key may do."""

    HOSPITAL = "hospital"  # submit updates and read its own submissions
    OPERATOR = "operator"  # read everything
    ADMIN = "admin"  # operator rights plus managing hospitals and keys


class Status(enum.StrEnum):
    """Where a submission is in the pipeline; each stage moves it one step."""

    QUEUED = "queued"
    EVALUATED = "evaluated"
    FINGERPRINTED = "fingerprinted"
    DECIDED = "decided"
    RECORDED = "recorded"


class Verdict(enum.StrEnum):
    """The answer AURA gives about an update."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ERROR = "error"


class Hospital(Base):
    """A federation member that submits updates."""

    __tablename__ = "hospitals"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The centre of the task data the hospital's own rows come from (e.g. "Hungary"), when the
    # server's golden set holds rows of it: the evaluator then also scores updates on those rows.
    centre: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SigningKey(Base):
    """A hospital's Ed25519 public key: its submissions signed with the private half are known to be its own."""

    __tablename__ = "hospital_signing_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hospital_id: Mapped[str] = mapped_column(ForeignKey("hospitals.id"), index=True)
    key_id: Mapped[str] = mapped_column(String(16), unique=True)  # shared.signing.key_id of the public key
    public_key: Mapped[str] = mapped_column(String(64))  # the raw 32 bytes in base64
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignatureNonce(Base):
    """A nonce a hospital has signed with: used once. Rows older than the allowed clock skew can go."""

    __tablename__ = "signature_nonces"
    hospital_id: Mapped[str] = mapped_column(ForeignKey("hospitals.id"), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """An API key, stored only as its SHA-256 (keys are 256-bit random, so no slow hash needed)."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))
    hospital_id: Mapped[str | None] = mapped_column(ForeignKey("hospitals.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purpose: Mapped[str | None] = mapped_column(String(200))  # why it was minted, e.g. the run it serves (0016)


class Federation(Base):
    """A consortium that trains one task with its own recipe; its runs scope rounds, history and calibration."""

    __tablename__ = "federations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    task: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    recipe: Mapped[dict[str, Any]]  # the training recipe its hospitals follow, as the operator declared it
    # Every update must carry its hospital's Ed25519 signature (0017); a signature sent anyway is always checked.
    require_signatures: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FederationRun(Base):
    """One run of a federation: its rounds start at 1; no two runs share history."""

    __tablename__ = "federation_runs"
    federation_id: Mapped[str] = mapped_column(ForeignKey("federations.id"), primary_key=True)
    run: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Its first rounds whose updates the operator vouches are honest: they are accepted whatever
    # the detector finds (the verdict says what it found), so the run trains and has a history to
    # calibrate on.
    calibration_rounds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Calibration(Base):
    """One fit of a federation's detector thresholds from updates its operator vouched are honest (append-only)."""

    __tablename__ = "calibrations"
    __table_args__ = (UniqueConstraint("federation_id", "version", name="uq_calibrations_federation_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    federation_id: Mapped[str] = mapped_column(ForeignKey("federations.id"))
    version: Mapped[int] = mapped_column(Integer)
    fitted: Mapped[dict[str, Any]]  # services.detector.calibration.fit's output
    source: Mapped[dict[str, Any]]  # which run and rounds, how many updates, the operator's note
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def name(self) -> str:
        """How verdicts name it."""
        return f"{self.federation_id} v{self.version}"


def _in_run(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["federation", "run"], ["federation_runs.federation_id", "federation_runs.run"],
                                name=f"fk_{table}_federation_run")


class GlobalModel(Base):
    """The global model a round starts from: the reference every update is compared with."""

    __tablename__ = "global_models"
    __table_args__ = (UniqueConstraint("federation", "run", "round", name="uq_global_models_scope_round"),
                      _in_run("global_models"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    task: Mapped[str] = mapped_column(String(64))
    federation: Mapped[str] = mapped_column(String(64))
    run: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    file_sha256: Mapped[str] = mapped_column(String(64))
    tensor_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Submission(Base):
    """One uploaded model update and its progress through the pipeline."""

    __tablename__ = "submissions"
    # Every stage updates the row; status and verdict are not indexed so those updates stay in the
    # page (HOT) instead of writing every index again (migration 0006 says why, and keeps 30% of
    # each page free on PostgreSQL). The unique key serves lookups by hospital.
    __table_args__ = (UniqueConstraint("hospital_id", "federation", "run", "round",
                                       name="uq_submissions_hospital_scope_round"),
                      Index("ix_submissions_scope_round", "federation", "run", "round", "created_at"),
                      _in_run("submissions"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    hospital_id: Mapped[str] = mapped_column(ForeignKey("hospitals.id"))
    task: Mapped[str] = mapped_column(String(64))
    federation: Mapped[str] = mapped_column(String(64))
    run: Mapped[int] = mapped_column(Integer)
    round: Mapped[int] = mapped_column(Integer)
    file_sha256: Mapped[str] = mapped_column(String(64))
    tensor_sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    num_examples: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # The verified signature record (shared.signing.SignatureRecord, canonical JSON), or NULL: unsigned (0017).
    signature: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=Status.QUEUED)
    verdict: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # stage executions that failed
    resends: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # the sweeper's (0013)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Evaluation(Base):
    """Golden-set metrics of the updated model and of the round's global model."""

    __tablename__ = "evaluations"
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    update_metrics: Mapped[dict[str, Any]]
    global_metrics: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Fingerprint(Base):
    """Mean SHAP attribution per feature on the probe set, for the update and the global model."""

    __tablename__ = "fingerprints"
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    method: Mapped[str] = mapped_column(String(32))
    features: Mapped[list[Any]]
    attribution: Mapped[list[Any]]
    attribution_abs: Mapped[list[Any]]
    reference: Mapped[list[Any]]
    peer_reference: Mapped[list[Any] | None]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Decision(Base):
    """The detector's verdict with its score, threshold, ranked reasons and the features behind them."""

    __tablename__ = "decisions"
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[Any]]
    features: Mapped[dict[str, Any]]
    # shared.evidence.evidence_digest of what the detector decided on; NULL where the verdict
    # rests on no completed evidence (the sweeper's `error`): the ledger then digests the rows.
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    # The calibration the thresholds came from ("federation vN", or AURA's defaults); NULL before 0009.
    calibration: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerEntry(Base):
    """One verdict or calibration in the append-only log: canonical bytes, RFC 9162 leaf hash, and hash chain."""

    __tablename__ = "ledger_entries"
    __table_args__ = (CheckConstraint("(submission_id IS NULL) <> (calibration_id IS NULL)",
                                      name="ck_ledger_entries_one_owner"),
                      UniqueConstraint("calibration_id", name="uq_ledger_entries_calibration"))
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"), unique=True)  # a verdict's
    calibration_id: Mapped[int | None] = mapped_column(  # a calibration's (migration 0011)
        ForeignKey("calibrations.id", name="fk_ledger_entries_calibration"))
    entry: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    chain_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LedgerNode(Base):
    """A perfect Merkle subtree hash: covers entries [index * 2**level, (index + 1) * 2**level)."""

    __tablename__ = "ledger_nodes"
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class LedgerCheckpoint(Base):
    """A signed tree head (C2SP signed note); one per tree size, so the log cannot sign a fork twice."""

    __tablename__ = "checkpoints"
    size: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IdempotencyKey(Base):
    """A hospital's Idempotency-Key: claimed while its request runs, then bound to what that request did."""

    __tablename__ = "idempotency_keys"
    hospital_id: Mapped[str] = mapped_column(ForeignKey("hospitals.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # of the request that finished; None in flight
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"))
    status_code: Mapped[int | None] = mapped_column(Integer)  # the first response's status, replayed
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RefusedUpload(Base):
    """An upload or request the gateway refused: the Security view's evidence."""

    __tablename__ = "refused_uploads"
    __table_args__ = (Index("ix_refused_uploads_client_last_at", "client", "last_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hospital_id: Mapped[str | None] = mapped_column(String(64), index=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # 0015: the client address, and repeats within a minute (same client, hospital and code) added up.
    client: Mapped[str | None] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    last_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WorkerHeartbeat(Base):
    """A worker's last sign of life (shared/heartbeat.py): what the Workers view shows, on any broker."""

    __tablename__ = "worker_heartbeats"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)  # Celery's node name, e.g. aura@host
    pid: Mapped[int] = mapped_column(Integer)
    queues: Mapped[list[Any]]
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    beat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # a clean stop says so


class Run(Base):
    """A federated learning run started through the API; its progress is JSON the runner owns."""

    __tablename__ = "runs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)  # pending|running|done|failed
    config: Mapped[dict[str, Any]]
    results: Mapped[dict[str, Any]]
    model_sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

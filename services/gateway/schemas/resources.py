"""The gateway's models of submissions, federations, hospitals and the ledger (see the package docstring)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.gateway.limits import INT32_MAX, Identifier, InputModel, Name, Positive, Text
from shared.signing import stored


class SignatureRecord(BaseModel):
    """A submission's signature as checked at intake (and as its ledger entry records it)."""

    verified: bool = Field(description="true: checked against the hospital's registered key; false: a claim from "
                                       "before signatures were checked, never verified")
    alg: str | None = None
    key: str | None = Field(None, description="the signing key's id")
    signed: dict[str, Any] | None = Field(None, description="the fields the signature covers")
    sig: str | None = Field(None, description="the signature, base64url")
    claimed: str | None = None


class SubmissionSummary(BaseModel):
    """A submission as listed."""

    model_config = ConfigDict(from_attributes=True)
    id: str
    hospital_id: str
    task: str
    federation: str
    run: int
    round: int
    status: str
    verdict: str | None
    file_sha256: str
    tensor_sha256: str
    size_bytes: int
    num_examples: int | None
    attempts: int
    created_at: datetime
    decided_at: datetime | None
    recorded_at: datetime | None
    signature: SignatureRecord | None = Field(
        None, description="the hospital's Ed25519 signature, verified at intake; null: the update came unsigned")

    @field_validator("signature", mode="before")
    @classmethod
    def _stored(cls, value: Any) -> Any:
        return stored(value) if isinstance(value, str) else value


class Reason(BaseModel):
    """One ranked reason behind a verdict."""

    signal: str
    severity: float
    value: float | None
    reference: float | None
    text: str


class Decision(BaseModel):
    """The verdict with its score, threshold and ranked reasons."""

    verdict: str
    score: float
    threshold: float
    reasons: list[Reason]
    features: dict[str, Any]
    calibration: str | None = Field(None, description="the thresholds' calibration: 'federation vN' or AURA's defaults")


class FingerprintOut(BaseModel):
    """Per-feature mean SHAP attribution of the update, the global model and the round's peers."""

    method: str
    features: list[str]
    attribution: list[float]
    attribution_abs: list[float]
    reference: list[float]
    peer_reference: list[float] | None


class EvaluationOut(BaseModel):
    """Golden-set metrics of the update and of the global model."""

    update_metrics: dict[str, float | None]
    global_metrics: dict[str, float | None]


class SubmissionDetail(SubmissionSummary):
    """A submission with all its evidence."""

    last_error: str | None
    evaluation: EvaluationOut | None
    fingerprint: FingerprintOut | None
    decision: Decision | None
    ledger_index: int | None


class SubmissionPage(BaseModel):
    """One page of submissions."""

    total: int
    items: list[SubmissionSummary]


class LedgerEntryOut(BaseModel):
    """One ledger entry: its canonical bytes (as text) and hashes (hex); a verdict's or a calibration's."""

    index: int
    # None: a calibration's entry (its bytes say which), or another hospital's entry seen by a hospital key
    submission_id: str | None
    entry: str | None = Field(description="the canonical bytes as text; None for another hospital's entry")
    leaf_hash: str
    chain_hash: str
    created_at: datetime


class LedgerPage(BaseModel):
    """One page of ledger entries."""

    total: int
    items: list[LedgerEntryOut]


class VerifyOut(BaseModel):
    """Result of recomputing the ledger."""

    ok: bool
    size: int
    first_bad_index: int | None
    problem: str | None
    checkpoint_size: int | None = None
    checkpoints_checked: int = 0


class TaskOut(BaseModel):
    """A registered model task."""

    name: str
    description: str
    features: list[str]
    tensors: list[dict[str, Any]]
    golden_rows: int
    centres: list[str] = Field(description="the centres the golden set holds rows of (what a hospital's centre may be)")
    rounds: list[int] = Field(description="open rounds of run 1 of the task's default federation")
    parameters: int = Field(description="values an update carries")
    objective: str


class FederationIn(InputModel):
    """A federation to create: its id, the task it trains, a display name and its declared training recipe."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    task: Identifier
    name: str = Field("", max_length=200)
    recipe: dict[str, Any] = Field(default_factory=dict, max_length=50,
                                   description="e.g. lr, local_epochs, batch_size, optimizer")
    calibration_rounds: int = Field(0, ge=0, le=INT32_MAX,
                                    description="run 1's first rounds whose updates you vouch are honest")
    require_signatures: bool = Field(False, description="refuse any update not signed with its hospital's "
                                                        "registered Ed25519 key")


class FederationPatch(InputModel):
    """Settings of a federation to change (what is left out stays)."""

    name: Name | None = None
    require_signatures: bool | None = None


class FederationRunIn(InputModel):
    """A new run of a federation."""

    calibration_rounds: int = Field(0, ge=0, le=INT32_MAX,
                                    description="its first rounds whose updates you vouch are honest")


class FederationRunOut(BaseModel):
    """One run of a federation and its open rounds."""

    run: int
    rounds: list[int]
    calibration_rounds: int = Field(0, description="its first rounds, accepted as vouched for")


class FederationOut(BaseModel):
    """A federation, its recipe, its runs and the calibration in force."""

    id: str
    task: str
    name: str
    recipe: dict[str, Any]
    runs: list[FederationRunOut]
    calibration: str | None = Field(description="its newest calibration ('federation vN'); None: AURA's defaults")
    require_signatures: bool = Field(False, description="every update must carry its hospital's Ed25519 signature")


class CalibrationIn(InputModel):
    """Rounds of a run whose updates the operator vouches are honest."""

    run: Positive
    rounds: list[Positive] = Field(min_length=1, max_length=10_000)
    note: Text = ""


class CalibrationOut(BaseModel):
    """One calibration of a federation: what it was fitted from and the bounds it set."""

    model_config = ConfigDict(from_attributes=True)
    name: str
    version: int
    source: dict[str, Any]
    fitted: dict[str, Any]
    created_at: datetime


class GlobalModelOut(BaseModel):
    """A registered global model."""

    model_config = ConfigDict(from_attributes=True)
    task: str
    federation: str
    run: int
    round: int
    file_sha256: str
    tensor_sha256: str
    created_at: datetime


class HospitalOut(BaseModel):
    """A hospital and its record."""

    id: str
    name: str
    centre: str | None = Field(description="the data centre its rows come from, when registered with one")
    created_at: datetime
    submissions: int
    accepted: int
    rejected: int


class SigningKeyIn(InputModel):
    """A hospital's Ed25519 public key to register."""

    public_key: str = Field(max_length=400, description="the raw 32-byte key in base64 (what `aura keys signing new` "
                                                        "prints) or a PEM public key (`openssl pkey -pubout`)")


class SigningKeyOut(BaseModel):
    """A registered signing key."""

    model_config = ConfigDict(from_attributes=True)
    key_id: str = Field(description="what a signature's key= names: 16 hex digits of SHA-256 of the raw key")
    hospital_id: str
    public_key: str = Field(description="the raw key in base64")
    created_at: datetime
    revoked_at: datetime | None


class HospitalCreated(HospitalOut):
    """A new hospital with its API key, shown this once."""

    api_key: str


class HospitalIn(InputModel):
    """A hospital to register."""

    id: Identifier
    name: Name
    centre: Name | None = Field(default=None, description="data centre its rows come from (e.g. Hungary), if the "
                                                            "golden set holds rows of it")


class CheckpointOut(BaseModel):
    """The latest signed checkpoint: the C2SP signed note and what it says (root in base64)."""

    origin: str
    size: int
    root_hash: str
    note: str
    created_at: datetime


class LogKeyOut(BaseModel):
    """The log's origin and public key (Go note verifier key text)."""

    origin: str
    key_name: str
    vkey: str


class InclusionProofOut(BaseModel):
    """RFC 9162 inclusion proof of one entry in the tree of `tree_size` entries (hashes in base64)."""

    index: int
    tree_size: int
    leaf_hash: str
    proof: list[str]
    checkpoint: str | None


class ConsistencyProofOut(BaseModel):
    """RFC 9162 consistency proof between two tree sizes (hashes in base64)."""

    old_size: int
    new_size: int
    proof: list[str]


class LedgerStatsOut(BaseModel):
    """How big the ledger is and how much of it the latest checkpoint covers."""

    origin: str
    size: int
    nodes: int
    checkpoints: int
    checkpoint_size: int
    checkpoint_at: datetime | None
    uncovered: int


class ReceiptOut(BaseModel):
    """A self-contained proof that a submission's verdict is in the log (see `aura verify receipt`)."""

    format: str
    submission_id: str
    index: int
    entry: str
    leaf_hash: str
    tree_size: int
    inclusion_proof: list[str]
    checkpoint: str

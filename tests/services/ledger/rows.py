"""Building ledger test data: submissions with verdicts inserted directly, appended for real."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.ledger.keys import LogConfig
from services.ledger.service import Appended, append
from shared.evidence import evidence_digest
from shared.federations import ensure_federation
from shared.models import Decision, Evaluation, Fingerprint, Hospital, Status, Submission, utcnow


def add_verdicts(engine: sa.Engine, count: int, hospital: str | None = None, *, digests: bool = True) -> list[str]:
    """Insert `count` decided submissions with verdicts for one (new or existing) hospital; return their ids.

    With `digests`, each decision carries its evidence digest as the detector records it (over no
    evaluation or fingerprint rows); without, the ledger digests the evidence rows itself.
    """
    hospital = hospital or f"h-{uuid.uuid4().hex[:8]}"
    now = utcnow()
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with engine.begin() as conn:
        if conn.scalar(sa.select(Hospital.id).where(Hospital.id == hospital)) is None:
            conn.execute(sa.insert(Hospital).values(id=hospital, name=hospital, created_at=now))
        with Session(conn) as session:
            ensure_federation(session, "heart-mlp", "heart-mlp")
        conn.execute(sa.insert(Submission), [{
            "id": sid, "hospital_id": hospital, "task": "heart-mlp", "federation": "heart-mlp", "run": 1,
            "round": i + 1,
            "file_sha256": hashlib.sha256(sid.encode()).hexdigest(),
            "tensor_sha256": hashlib.sha256(b"t" + sid.encode()).hexdigest(), "size_bytes": 1000,
            "status": Status.DECIDED, "verdict": "accepted", "attempts": 1,
            "created_at": now, "updated_at": now, "decided_at": now} for i, sid in enumerate(ids)])
        conn.execute(sa.insert(Decision), [{
            "submission_id": sid, "verdict": "accepted" if i % 3 else "rejected", "score": 0.1 + (i % 7) / 10,
            "threshold": 0.5, "reasons": [{"signal": "update_norm", "severity": 0.2, "value": 1.0, "reference": 1.0,
                                           "text": f"update norm {1 + i % 5}x the round median"}],
            "features": {"norm": float(i)}, "created_at": now, "calibration": f"heart-mlp v{1 + i % 2}",
            "evidence_sha256": evidence_digest(None, None, {"norm": float(i)}) if digests else None}
            for i, sid in enumerate(ids)])
    return ids


def add_evidence(engine: sa.Engine, ids: Sequence[str]) -> None:
    """Give the submissions the evaluation and fingerprint rows their verdicts rest on."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(sa.insert(Evaluation), [{
            "submission_id": sid, "update_metrics": {"loss": 0.4 + i / 100, "auc": 0.8},
            "global_metrics": {"loss": 0.48, "auc": 1 / 3}, "created_at": now} for i, sid in enumerate(ids)])
        conn.execute(sa.insert(Fingerprint), [{
            "submission_id": sid, "method": "kernel-shap", "features": ["age", "chol"],
            "attribution": [0.1 * i, -0.2], "attribution_abs": [0.1 * i, 0.2], "reference": [0.3, 0.1 + 0.2],
            "peer_reference": None, "created_at": now} for i, sid in enumerate(ids)])


def append_all(engine: sa.Engine, ids: Sequence[str], log: LogConfig) -> list[Appended]:
    """Append each submission's verdict as the ledger stage does: a fresh session, a transaction of its own."""
    results = []
    for sid in ids:
        with Session(engine) as session, session.begin():
            results.append(append(session, sid, config=log, own_transaction=True))
    return results


def publishing_every(log: LogConfig, entries: int) -> LogConfig:
    """The same log, publishing a checkpoint every `entries` entries."""
    return replace(log, every_entries=entries)

"""Canonical ledger entry bytes (format version 1): what the Merkle leaf and hash chain cover.

Version 1 is UTF-8 JSON with sorted keys, no insignificant white space and ASCII-only escapes
(``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)``). Floats are
rounded to 6 decimals before encoding, so the bytes do not depend on the last bits of a score.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any, Protocol

FORMAT_VERSION = 1
ZERO_HASH = bytes(32)


def canonical_json(obj: Any) -> bytes:
    """The canonical encoding used for entries and evidence digests."""
    return json.dumps(_round_floats(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _round_floats(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 6)
    if isinstance(obj, dict):
        return {k: _round_floats(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_round_floats(v) for v in obj]
    return obj


# Structural types: the stage reads these fields in one row on PostgreSQL, the ORM loads rows elsewhere.
class SubmissionFields(Protocol):
    """What an entry takes from the submission row."""

    @property
    def id(self) -> str: ...
    @property
    def hospital_id(self) -> str: ...
    @property
    def task(self) -> str: ...
    @property
    def round(self) -> int: ...
    @property
    def file_sha256(self) -> str: ...
    @property
    def tensor_sha256(self) -> str: ...
    @property
    def signature(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...


class DecisionFields(Protocol):
    """What an entry takes from the verdict's decision row."""

    @property
    def verdict(self) -> str: ...
    @property
    def score(self) -> float: ...
    @property
    def threshold(self) -> float: ...
    @property
    def reasons(self) -> list[Any]: ...
    @property
    def features(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> datetime: ...


class EvaluationFields(Protocol):
    """What the evidence digest takes from the evaluation row."""

    @property
    def update_metrics(self) -> dict[str, Any]: ...
    @property
    def global_metrics(self) -> dict[str, Any]: ...


class FingerprintFields(Protocol):
    """What the evidence digest takes from the fingerprint row."""

    @property
    def method(self) -> str: ...
    @property
    def attribution(self) -> list[Any]: ...
    @property
    def reference(self) -> list[Any]: ...


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def evidence_digest(evaluation: EvaluationFields | None, fingerprint: FingerprintFields | None,
                    decision: DecisionFields) -> str:
    """SHA-256 over the evidence a verdict rests on (metrics, fingerprint, features)."""
    evidence = {
        "metrics": None if evaluation is None else
        {"update": evaluation.update_metrics, "global": evaluation.global_metrics},
        "fingerprint": None if fingerprint is None else
        {"method": fingerprint.method, "attribution": fingerprint.attribution, "reference": fingerprint.reference},
        "features": decision.features,
    }
    return hashlib.sha256(canonical_json(evidence)).hexdigest()


def entry_bytes(submission: SubmissionFields, decision: DecisionFields, evidence_sha256: str) -> bytes:
    """The canonical bytes of the ledger entry for this submission's verdict."""
    return canonical_json({
        "v": FORMAT_VERSION,
        "submission_id": submission.id,
        "hospital": submission.hospital_id,
        "task": submission.task,
        "round": submission.round,
        "file_sha256": submission.file_sha256,
        "tensor_sha256": submission.tensor_sha256,
        "verdict": decision.verdict,
        "score": decision.score,
        "threshold": decision.threshold,
        "reasons": [{"signal": r["signal"], "severity": r["severity"], "text": r["text"]} for r in decision.reasons],
        "evidence_sha256": evidence_sha256,
        "signature": submission.signature,
        "submitted_at": _iso(submission.created_at),
        "decided_at": _iso(decision.created_at),
    })


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    """The hash chain link: SHA-256(previous chain hash || leaf hash); the first entry's previous is 32 zeros."""
    return hashlib.sha256(previous + leaf).digest()

"""Canonical ledger entry bytes (format version 3): what the Merkle leaf and hash chain cover.

The bytes are `shared.evidence.canonical_json`: UTF-8 JSON with sorted keys, no insignificant
white space and ASCII-only escapes, floats rounded to 6 decimals. Version 2 adds the federation,
the run and the calibration that judged the verdict to version 1's fields, and `kind`: "verdict",
or "calibration" for the entry a federation's new calibration writes (recalibrations are audited
events of the same log). Version 3 makes a verdict's `signature` the record of the hospital's
verified Ed25519 signature (`shared.signing.record`: key id, the signed fields, the signature),
or null for an unsigned update; version 2 held whatever string the client sent, unchecked.
Entries are stored as written and verified as stored, so older entries stay valid as they are.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Protocol

from shared.evidence import canonical_json
from shared.signing import stored

FORMAT_VERSION = 3
ZERO_HASH = bytes(32)


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
    @property
    def federation(self) -> str: ...
    @property
    def run(self) -> int: ...


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
    def created_at(self) -> datetime: ...
    @property
    def calibration(self) -> str | None: ...


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def entry_bytes(submission: SubmissionFields, decision: DecisionFields, evidence_sha256: str) -> bytes:
    """The canonical bytes of the ledger entry for this submission's verdict."""
    return canonical_json({
        "v": FORMAT_VERSION,
        "kind": "verdict",
        "submission_id": submission.id,
        "hospital": submission.hospital_id,
        "task": submission.task,
        "federation": submission.federation,
        "run": submission.run,
        "round": submission.round,
        "file_sha256": submission.file_sha256,
        "tensor_sha256": submission.tensor_sha256,
        "verdict": decision.verdict,
        "score": decision.score,
        "threshold": decision.threshold,
        "calibration": decision.calibration,
        "reasons": [{"signal": r["signal"], "severity": r["severity"], "text": r["text"]} for r in decision.reasons],
        "evidence_sha256": evidence_sha256,
        "signature": stored(submission.signature),
        "submitted_at": _iso(submission.created_at),
        "decided_at": _iso(decision.created_at),
    })


class CalibrationFields(Protocol):
    """What a calibration's entry takes from its row."""

    @property
    def federation_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def fitted(self) -> dict[str, Any]: ...
    @property
    def source(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> datetime: ...


def calibration_entry_bytes(calibration: CalibrationFields) -> bytes:
    """The canonical bytes of the entry recording a federation's new calibration.

    The fitted bounds are committed to by their digest (the row keeps them); the source says which
    run, rounds and how many updates the operator vouched for.
    """
    return canonical_json({
        "v": FORMAT_VERSION,
        "kind": "calibration",
        "federation": calibration.federation_id,
        "calibration": calibration.name,
        "fitted_sha256": hashlib.sha256(canonical_json(calibration.fitted)).hexdigest(),
        "source": calibration.source,
        "calibrated_at": _iso(calibration.created_at),
    })


def leaf_hash(entry: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    """The hash chain link: SHA-256(previous chain hash || leaf hash); the first entry's previous is 32 zeros."""
    return hashlib.sha256(previous + leaf).digest()

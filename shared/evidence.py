"""The digest of the evidence a verdict rests on, and the canonical JSON it is encoded in.

The detector computes the digest when it decides, from the rows it read (so the ledger entry
commits to the evidence the verdict was made on, not to what the tables hold later); the ledger
computes it from the rows for a decision that has none (the sweeper's `error` verdicts). Both
go through `evidence_digest`, so the two give the same bytes.

Canonical JSON (ledger entry format version 1): UTF-8, sorted keys, no insignificant white
space, ASCII-only escapes, floats rounded to 6 decimals so the bytes do not depend on the last
bits of a score.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol


def canonical_json(obj: Any) -> bytes:
    """The canonical encoding used for ledger entries and evidence digests."""
    return json.dumps(_round_floats(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _round_floats(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 6)
    if isinstance(obj, dict):
        return {k: _round_floats(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_round_floats(v) for v in obj]
    return obj


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


def evidence_digest(evaluation: EvaluationFields | None, fingerprint: FingerprintFields | None,
                    features: dict[str, Any]) -> str:
    """SHA-256 (hex) over the evidence of a verdict: golden-set metrics, fingerprint, detector features."""
    evidence = {
        "metrics": None if evaluation is None else
        {"update": evaluation.update_metrics, "global": evaluation.global_metrics},
        "fingerprint": None if fingerprint is None else
        {"method": fingerprint.method, "attribution": fingerprint.attribution, "reference": fingerprint.reference},
        "features": features,
    }
    return hashlib.sha256(canonical_json(evidence)).hexdigest()

"""Canonical JSON and the evidence digest a decision commits to."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

from shared.evidence import canonical_json, evidence_digest

_EVALUATION = SimpleNamespace(update_metrics={"loss": 0.41, "auc": 0.83}, global_metrics={"loss": 0.48, "auc": 0.8})
_FINGERPRINT = SimpleNamespace(method="kernel-shap", attribution=[0.1, -0.2], reference=[0.11, -0.19])
_FEATURES = {"norm_ratio": 1.2, "cosine": 0.97}


def test_canonical_json_sorts_keys_and_drops_white_space():
    assert canonical_json({"b": 1, "a": [1.0, "x"]}) == b'{"a":[1.0,"x"],"b":1}'


def test_canonical_json_rounds_floats_so_last_bits_do_not_change_the_bytes():
    assert canonical_json({"s": 0.1 + 0.2}) == canonical_json({"s": 0.3})


def test_evidence_digest_is_sha256_of_the_canonical_evidence():
    expected = hashlib.sha256(canonical_json({
        "metrics": {"update": _EVALUATION.update_metrics, "global": _EVALUATION.global_metrics},
        "fingerprint": {"method": "kernel-shap", "attribution": [0.1, -0.2], "reference": [0.11, -0.19]},
        "features": _FEATURES})).hexdigest()
    assert evidence_digest(_EVALUATION, _FINGERPRINT, _FEATURES) == expected


def test_evidence_digest_changes_with_every_piece_of_evidence():
    base = evidence_digest(_EVALUATION, _FINGERPRINT, _FEATURES)
    changed = [
        evidence_digest(SimpleNamespace(update_metrics={"loss": 0.42, "auc": 0.83},
                                        global_metrics=_EVALUATION.global_metrics), _FINGERPRINT, _FEATURES),
        evidence_digest(_EVALUATION, SimpleNamespace(method="kernel-shap", attribution=[0.1, -0.21],
                                                     reference=_FINGERPRINT.reference), _FEATURES),
        evidence_digest(_EVALUATION, _FINGERPRINT, _FEATURES | {"cosine": 0.5}),
        evidence_digest(None, _FINGERPRINT, _FEATURES),
        evidence_digest(_EVALUATION, None, _FEATURES),
    ]
    assert base not in changed and len(set(changed)) == len(changed)

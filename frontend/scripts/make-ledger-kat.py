"""Writes known-answer vectors for the dashboard's Merkle and signed-note code from the ledger's Python.

The browser's verifier must agree with the server's implementation byte for byte, so its tests
check it against vectors produced by services/ledger itself (rerun if that code changes):
    .venv/bin/python frontend/scripts/make-ledger-kat.py > frontend/src/lib/fixtures/ledger-kat.json
"""

from __future__ import annotations

import base64
import json
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.ledger.merkle import consistency_proof, inclusion_proof, leaf_hash, root
from services.ledger.note import Checkpoint, sign_note, verifier_key


class Reader:
    """Perfect-subtree hashes straight from the leaf list."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves

    def subtree_hash(self, start: int, end: int) -> bytes:
        return root(self.leaves[start:end])


entries = [f"entry {i}".encode() for i in range(11)]
leaves = [leaf_hash(e) for e in entries]
reader = Reader(leaves)
inclusion = [{"index": i, "size": n, "path": [p.hex() for p in inclusion_proof(i, n, reader)]}
             for n in (1, 2, 3, 5, 8, 11) for i in range(n)]
consistency = [{"size1": m, "size2": n, "proof": [p.hex() for p in consistency_proof(m, n, reader)]}
               for n in (1, 4, 7, 11) for m in range(0, n + 1)]
key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
public = key.public_key().public_bytes_raw()
body = Checkpoint("aura.example/ledger", 11, root(leaves)).body()
json.dump({
    "entries": [e.decode() for e in entries],
    "leaves": [h.hex() for h in leaves],
    "roots": {n: root(leaves[:n]).hex() for n in range(0, 12)},
    "inclusion": inclusion,
    "consistency": consistency,
    "note": sign_note(body, "aura.example", key).decode(),
    "vkey": verifier_key("aura.example", public),
    "root_b64": base64.b64encode(root(leaves)).decode(),
}, sys.stdout, indent=1)

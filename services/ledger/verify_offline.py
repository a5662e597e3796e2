"""What a hospital runs to check the ledger without trusting the operator: no database, no server.

Every check starts from a checkpoint whose signature verifies under the log's public key (the
``vkey`` the hospital pinned); tree sizes and roots come from that signed text, never from a
proof, a receipt's other fields or an export's manifest.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from services.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from services.ledger.note import Checkpoint, NoteError, parse_checkpoint, parse_verifier_key, verify_note
from services.ledger.replay import Replay

RECEIPT_FORMAT = "aura-receipt/v1"
EXPORT_FORMAT = "aura-ledger-export/v1"
ENTRIES_FILE = "entries.log"  # one canonical entry per line (entries are ASCII JSON: no raw newline)
CHECKPOINTS_DIR = "checkpoints"
MANIFEST_FILE = "manifest.json"


class VerificationFailed(Exception):
    """A receipt, proof, checkpoint or export does not verify; the message says why."""


def trusted_checkpoint(note: bytes, vkey: str, origin: str | None = None) -> Checkpoint:
    """The checkpoint in `note`, once its signature by `vkey` (and its origin, if given) verify."""
    try:
        name, public_key = parse_verifier_key(vkey)
        return parse_checkpoint(verify_note(note, name, public_key), origin=origin)
    except NoteError as exc:
        raise VerificationFailed(f"checkpoint does not verify: {exc}") from exc


def decode_hashes(encoded: Iterable[str]) -> list[bytes]:
    """Decode a proof: a list of base64 hashes."""
    try:
        return [base64.b64decode(h, validate=True) for h in encoded]
    except (binascii.Error, TypeError, ValueError) as exc:
        raise VerificationFailed(f"proof is not a list of base64 hashes: {exc}") from exc


def encode_hashes(hashes: Iterable[bytes]) -> list[str]:
    """Encode a proof as a list of base64 hashes (the encoding checkpoints use for roots)."""
    return [base64.b64encode(h).decode() for h in hashes]


@dataclass(frozen=True)
class ReceiptCheck:
    """A receipt that verified: which entry, in which signed tree."""

    submission_id: str
    index: int
    tree_size: int
    verdict: str | None
    entry: dict[str, Any]


def verify_receipt(receipt: Mapping[str, Any], vkey: str, origin: str | None = None) -> ReceiptCheck:
    """Check that the receipt's entry is in the tree its signed checkpoint commits to."""
    try:
        note, index = str(receipt["checkpoint"]).encode(), int(receipt["index"])
        entry, proof = str(receipt["entry"]).encode(), decode_hashes(receipt["inclusion_proof"])
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationFailed(f"receipt is malformed: {exc!r}") from exc
    checkpoint = trusted_checkpoint(note, vkey, origin)
    if not 0 <= index < checkpoint.size:
        raise VerificationFailed(f"entry {index} is not in the signed tree of size {checkpoint.size}")
    if not verify_inclusion(index, checkpoint.size, leaf_hash(entry), proof, checkpoint.root):
        raise VerificationFailed(f"inclusion proof of entry {index} does not lead to the root signed for "
                                 f"tree size {checkpoint.size}")
    try:
        fields = json.loads(entry)
    except ValueError as exc:
        raise VerificationFailed("entry is not JSON") from exc
    if not isinstance(fields, dict):
        raise VerificationFailed("entry is not a JSON object")
    claimed = receipt.get("submission_id")
    if claimed is not None and fields.get("submission_id") != claimed:
        raise VerificationFailed(f"the proved entry is about submission {fields.get('submission_id')}, not {claimed}")
    return ReceiptCheck(str(fields.get("submission_id")), index, checkpoint.size, fields.get("verdict"), fields)


def verify_consistency_notes(old_note: bytes, new_note: bytes, proof: Iterable[bytes], vkey: str,
                             origin: str | None = None) -> tuple[Checkpoint, Checkpoint]:
    """Check that the newer signed tree extends the older one (RFC 9162 consistency)."""
    old, new = trusted_checkpoint(old_note, vkey, origin), trusted_checkpoint(new_note, vkey, origin)
    if old.origin != new.origin:
        raise VerificationFailed(f"checkpoints are of different logs: {old.origin!r} and {new.origin!r}")
    if old.size > new.size:
        raise VerificationFailed(f"the old checkpoint ({old.size}) is larger than the new one ({new.size})")
    if not verify_consistency(old.size, new.size, old.root, new.root, list(proof)):
        raise VerificationFailed(f"the tree of size {new.size} does not extend the signed tree of size {old.size}: "
                                 "the log was rewritten (or the proof is wrong)")
    return old, new


def signed_roots(notes: Iterable[tuple[str, bytes]], vkey: str, origin: str | None = None) -> dict[int, bytes]:
    """Verify every (where, note) checkpoint and map tree size to signed root; two roots for one size fail."""
    roots: dict[int, bytes] = {}
    for where, note in notes:
        try:
            checkpoint = trusted_checkpoint(note, vkey, origin)
        except VerificationFailed as exc:
            raise VerificationFailed(f"{where}: {exc}") from exc
        if roots.setdefault(checkpoint.size, checkpoint.root) != checkpoint.root:
            raise VerificationFailed(f"two different checkpoints of size {checkpoint.size} were signed: the log forked")
    return roots


class RootCheck:
    """Compares a replayed log with signed roots as it grows, remembering the last one that matched."""

    def __init__(self, roots: Mapping[int, bytes]) -> None:
        """Check against these signed roots (tree size -> root)."""
        self.roots, self.matched = roots, 0

    def problem(self, replay: Replay) -> str | None:
        """Why the log so far contradicts the root signed for its size, if it does."""
        signed = self.roots.get(replay.size)
        if signed is None:
            return None
        if replay.root() != signed:
            # The root says only that something since the last matching checkpoint changed.
            return (f"entries [{self.matched}, {replay.size}) do not hash to the root signed in checkpoint "
                    f"{replay.size}: one of them was changed after signing")
        self.matched = replay.size
        return None


@dataclass(frozen=True)
class ExportCheck:
    """Outcome of recomputing an export."""

    ok: bool
    size: int
    checkpoint_size: int
    checkpoints: int
    first_bad_index: int | None = None
    problem: str | None = None


def read_entries(stream: BinaryIO) -> Iterator[bytes]:
    """The entries of an export's entries file, in order."""
    for line in stream:
        yield line[:-1] if line.endswith(b"\n") else line


def verify_export(folder: Path, vkey: str, origin: str | None = None) -> ExportCheck:
    """Recompute an export made by `aura ledger export`: every entry, the chain, and every signed root."""
    notes = sorted((folder / CHECKPOINTS_DIR).glob("*.note"))
    roots = signed_roots(((p.name, p.read_bytes()) for p in notes), vkey, origin)
    if not roots:
        raise VerificationFailed("the export holds no signed checkpoint: nothing vouches for its entries")
    replay, check = Replay(), RootCheck(roots)
    with (folder / ENTRIES_FILE).open("rb") as stream:
        for entry in read_entries(stream):
            replay.append(entry)
            problem = check.problem(replay)
            if problem:
                return ExportCheck(False, replay.size, check.matched, len(roots), check.matched, problem)
    largest = max(roots)
    if largest > replay.size:
        return ExportCheck(False, replay.size, check.matched, len(roots), replay.size,
                           f"the export has {replay.size} entries but checkpoint {largest} was signed: "
                           f"entries from {replay.size} on are missing")
    return ExportCheck(True, replay.size, check.matched, len(roots))

"""The offline verifier: receipts, consistency between checkpoints, and exports, with no database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from services.ledger.checkpoints import publish_checkpoint
from services.ledger.export import export_ledger
from services.ledger.keys import LogConfig
from services.ledger.receipts import build_receipt
from services.ledger.store import consistency
from services.ledger.verify_offline import (
    ENTRIES_FILE,
    VerificationFailed,
    decode_hashes,
    encode_hashes,
    verify_consistency_notes,
    verify_export,
    verify_receipt,
)
from shared.models import LedgerCheckpoint
from tests.services.ledger.rows import add_verdicts, append_all, publishing_every

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def ids(engine: sa.Engine, log: LogConfig) -> list[str]:
    """A log of 13 verdicts with checkpoints at 4, 8 and 12."""
    ids = add_verdicts(engine, 13)
    append_all(engine, ids, publishing_every(log, 4))
    return ids


def _receipt(engine: sa.Engine, log: LogConfig, submission_id: str) -> dict:
    with Session(engine) as session, session.begin():
        receipt = build_receipt(session, submission_id, config=log)
    assert receipt is not None
    return json.loads(json.dumps(receipt))  # exactly what a hospital saves


def _notes(engine: sa.Engine) -> dict[int, bytes]:
    with engine.connect() as conn:
        return {size: note.encode() for size, note in conn.execute(sa.select(LedgerCheckpoint.size,
                                                                               LedgerCheckpoint.note))}


def test_receipt_verifies_under_the_log_key(engine, log, ids):
    check = verify_receipt(_receipt(engine, log, ids[5]), log.vkey, origin=log.origin)

    assert (check.submission_id, check.index, check.tree_size) == (ids[5], 5, 12)


def test_receipt_for_an_entry_no_checkpoint_covers_publishes_one_first(engine, log, ids):
    receipt = _receipt(engine, log, ids[12])

    assert verify_receipt(receipt, log.vkey).tree_size == 13
    assert sorted(_notes(engine)) == [4, 8, 12, 13]


@pytest.mark.parametrize("forge", [
    lambda r: {**r, "entry": r["entry"].replace('"threshold":0.5', '"threshold":0.9')},
    lambda r: {**r, "index": r["index"] + 1},
    lambda r: {**r, "inclusion_proof": r["inclusion_proof"][:-1]},
    lambda r: {**r, "inclusion_proof": encode_hashes([bytes(32), *decode_hashes(r["inclusion_proof"])[1:]])},
    lambda r: {**r, "checkpoint": r["checkpoint"].replace("\n12\n", "\n11\n")},
    lambda r: {**r, "submission_id": "someone-else"},
], ids=["entry", "index", "short-proof", "proof-hash", "checkpoint-size", "submission"])
def test_forged_receipt_fails(engine, log, ids, forge):
    receipt = _receipt(engine, log, ids[5])

    with pytest.raises(VerificationFailed):
        verify_receipt(forge(receipt), log.vkey)


def test_receipt_takes_the_tree_size_from_the_signed_checkpoint_not_the_receipt(engine, log, ids):
    receipt = {**_receipt(engine, log, ids[5]), "tree_size": 6}

    assert verify_receipt(receipt, log.vkey).tree_size == 12


def test_receipt_signed_by_another_key_fails(engine, log, ids):
    stranger = replace(log, private_key=Ed25519PrivateKey.generate())

    with pytest.raises(VerificationFailed, match="signature"):
        verify_receipt(_receipt(engine, log, ids[5]), stranger.vkey)


def test_consistency_between_two_signed_checkpoints_verifies(engine, log, ids):
    notes = _notes(engine)
    with Session(engine) as session:
        proof = consistency(session, 4, 12)

    old, new = verify_consistency_notes(notes[4], notes[12], proof, log.vkey)

    assert (old.size, new.size) == (4, 12)


def test_consistency_proof_for_other_sizes_fails(engine, log, ids):
    notes = _notes(engine)
    with Session(engine) as session:
        proof = consistency(session, 8, 12)

    with pytest.raises(VerificationFailed, match="does not extend"):
        verify_consistency_notes(notes[4], notes[12], proof, log.vkey)


def _export(engine: sa.Engine, log: LogConfig, folder: Path) -> Path:
    with Session(engine) as session, session.begin():
        publish_checkpoint(session, config=log)
    with Session(engine) as session:
        export_ledger(session, folder, config=log, batch=5)
    return folder


def test_export_recomputes_to_every_signed_root(engine, log, ids, tmp_path):
    check = verify_export(_export(engine, log, tmp_path / "export"), log.vkey, origin=log.origin)

    assert (check.ok, check.size, check.checkpoint_size, check.checkpoints) == (True, 13, 13, 4)


def test_export_with_an_altered_entry_fails_at_the_first_unvouched_index(engine, log, ids, tmp_path):
    folder = _export(engine, log, tmp_path / "export")
    lines = (folder / ENTRIES_FILE).read_bytes().split(b"\n")
    lines[6] = lines[6].replace(b'"v":3', b'"v":4')
    (folder / ENTRIES_FILE).write_bytes(b"\n".join(lines))

    check = verify_export(folder, log.vkey)

    assert (check.ok, check.first_bad_index) == (False, 4)
    assert "checkpoint 8" in check.problem


def test_export_missing_its_last_entries_fails(engine, log, ids, tmp_path):
    folder = _export(engine, log, tmp_path / "export")
    lines = (folder / ENTRIES_FILE).read_bytes().splitlines(keepends=True)
    (folder / ENTRIES_FILE).write_bytes(b"".join(lines[:10]))

    check = verify_export(folder, log.vkey)

    assert (check.ok, check.first_bad_index) == (False, 10)


def test_export_without_signed_checkpoints_proves_nothing(engine, log, ids, tmp_path):
    folder = _export(engine, log, tmp_path / "export")
    for note in (folder / "checkpoints").iterdir():
        note.unlink()

    with pytest.raises(VerificationFailed, match="no signed checkpoint"):
        verify_export(folder, log.vkey)


def test_cli_verifies_an_export_with_no_database_reachable(engine, log, ids, tmp_path):
    folder = _export(engine, log, tmp_path / "export")
    key_file = tmp_path / "log.vkey"
    key_file.write_text(log.vkey + "\n")
    nowhere = {**os.environ, "AURA_DATABASE_URL": "postgresql+psycopg2://nobody@127.0.0.1:1/none",
               "AURA_BROKER_URL": "redis://127.0.0.1:1/0"}

    result = subprocess.run([sys.executable, "-m", "aura.cli", "verify", "export", str(folder), "--key", str(key_file)],
                            cwd=ROOT, env=nowhere, capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: 13 entries recomputed")

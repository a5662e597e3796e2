"""Tampering in PostgreSQL as a superuser (triggers off) is found, and the first bad index named."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.ledger.audit import VerifyReport, verify
from services.ledger.checkpoints import publish_checkpoint
from services.ledger.keys import LogConfig
from services.ledger.store import consistency
from services.ledger.verify_offline import VerificationFailed, verify_consistency_notes
from shared.models import LedgerCheckpoint
from tests.services.ledger.rows import add_verdicts, append_all, publishing_every
from tests.services.ledger.tampering import as_superuser, rewrite_tail

SIZE = 40  # checkpoints every 10 entries: signed roots at 10, 20, 30 and 40


@pytest.fixture
def ledger(engine: sa.Engine, log: LogConfig) -> sa.Engine:
    """A log of 40 verdicts with a signed checkpoint every 10."""
    append_all(engine, add_verdicts(engine, SIZE), publishing_every(log, 10))
    return engine


def _verify(engine: sa.Engine, log: LogConfig) -> VerifyReport:
    with Session(engine) as session:
        return verify(session, config=log, batch=16)


def _note(engine: sa.Engine, size: int) -> bytes:
    with engine.connect() as conn:
        return conn.scalar(sa.select(LedgerCheckpoint.note).where(LedgerCheckpoint.size == size)).encode()


def test_untouched_log_verifies_against_every_signed_checkpoint(ledger, log):
    report = _verify(ledger, log)

    assert report == VerifyReport(True, SIZE, checkpoint_size=40, checkpoints_checked=4)


def test_flipping_one_byte_of_an_entry_names_that_entry(ledger, log):
    as_superuser(ledger, "UPDATE ledger_entries SET entry = set_byte(entry, 30, get_byte(entry, 30) # 1) "
                         "WHERE seq = 17")

    report = _verify(ledger, log)

    assert (report.ok, report.first_bad_index) == (False, 17)
    assert "leaf hash" in report.problem


def test_deleting_an_entry_names_the_gap(ledger, log):
    as_superuser(ledger, "DELETE FROM ledger_entries WHERE seq = 23")

    report = _verify(ledger, log)

    assert (report.ok, report.first_bad_index, report.problem) == (False, 23, "entry 23 is missing")


def test_swapping_two_entries_names_the_first_of_them(ledger, log):
    as_superuser(ledger, """
        UPDATE ledger_entries a SET entry = b.entry, leaf_hash = b.leaf_hash, chain_hash = b.chain_hash
        FROM ledger_entries b WHERE (a.seq, b.seq) IN ((12, 31), (31, 12))""")

    report = _verify(ledger, log)

    assert (report.ok, report.first_bad_index) == (False, 12)
    assert "chain hash" in report.problem


def test_truncating_the_tail_names_the_first_removed_entry(ledger, log):
    as_superuser(ledger, "DELETE FROM ledger_entries WHERE seq >= 35")
    as_superuser(ledger, "DELETE FROM ledger_nodes WHERE ((index + 1) << level) - 1 >= 35")

    report = _verify(ledger, log)

    assert (report.ok, report.size, report.first_bad_index) == (False, 35, 35)
    assert "checkpoint 40 was signed" in report.problem


def test_damaged_merkle_node_names_the_entry_that_completed_it(ledger, log):
    as_superuser(ledger, "UPDATE ledger_nodes SET hash = :zero WHERE level = 2 AND index = 5", {"zero": bytes(32)})

    report = _verify(ledger, log)

    assert (report.ok, report.first_bad_index) == (False, 23)
    assert "level 2, index 5" in report.problem


def test_consistent_rewrite_of_the_tail_names_the_first_entry_no_longer_vouched_for(ledger, log):
    rewrite_tail(ledger, 25, lambda i: b'{"forged":%d}' % i)

    report = _verify(ledger, log)

    # Hashes, chain and nodes agree with the forged entries; only the signed root of checkpoint 30
    # does not, and the last checkpoint that still matches is 20.
    assert (report.ok, report.first_bad_index) == (False, 20)
    assert "entries [20, 30) do not hash to the root signed in checkpoint 30" in report.problem


def test_checkpoint_saved_before_a_rewrite_proves_it_even_if_the_log_signs_again(ledger, log):
    saved = _note(ledger, 30)  # a hospital kept this one
    rewrite_tail(ledger, 25, lambda i: b'{"forged":%d}' % i)
    # An operator holding the key drops the later checkpoints so the log will sign the rewrite.
    as_superuser(ledger, "DELETE FROM checkpoints WHERE size > 20")
    with Session(ledger, expire_on_commit=False) as session, session.begin():
        resigned = publish_checkpoint(session, config=log)
        proof = consistency(session, 30, SIZE)
    assert resigned is not None and resigned.size == SIZE

    with pytest.raises(VerificationFailed, match="does not extend"):
        verify_consistency_notes(saved, resigned.note.encode(), proof, log.vkey)
    # The write-once checkpoint files still hold what was signed before.
    report = _verify(ledger, log)
    assert not report.ok and "forked" in report.problem

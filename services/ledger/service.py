"""Appending verdicts to the ledger, one writer at a time, and verifying the whole log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from services.ledger.entry import ZERO_HASH, chain_hash, entry_bytes, evidence_digest, leaf_hash
from shared.models import Decision, Evaluation, Fingerprint, LedgerEntry, Status, Submission, utcnow
from shared.stage import advance

# Key of the PostgreSQL advisory lock that serialises appends (any constant; "AURA" in ASCII).
APPEND_LOCK_KEY = 0x41555241


def lock_for_append(session: Session) -> None:
    """Serialise appends: an advisory lock on PostgreSQL; SQLite's BEGIN IMMEDIATE already does."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})


def append(session: Session, submission: Submission) -> LedgerEntry:
    """Append the submission's verdict (exactly once) and mark it recorded."""
    lock_for_append(session)
    existing = session.scalar(select(LedgerEntry).where(LedgerEntry.submission_id == submission.id))
    if existing is not None:
        advance(submission, Status.RECORDED)
        return existing
    decision = session.get(Decision, submission.id)
    if decision is None:
        raise LookupError(f"submission {submission.id} has no verdict to record")
    entry = entry_bytes(submission, decision, evidence_digest(
        session.get(Evaluation, submission.id), session.get(Fingerprint, submission.id), decision))
    last = session.scalar(select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(1))
    leaf = leaf_hash(entry)
    row = LedgerEntry(
        seq=0 if last is None else last.seq + 1,
        submission_id=submission.id,
        entry=entry,
        leaf_hash=leaf,
        chain_hash=chain_hash(ZERO_HASH if last is None else last.chain_hash, leaf),
    )
    session.add(row)
    submission.recorded_at = utcnow()
    advance(submission, Status.RECORDED)
    session.flush()
    return row


def append_submission(session: Session, submission: Submission) -> None:
    """Stage function for the ledger task."""
    append(session, submission)


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of a full recomputation of the log."""

    ok: bool
    size: int
    first_bad_index: int | None = None
    problem: str | None = None


def verify(session: Session, batch: int = 5000) -> VerifyReport:
    """Recompute every leaf hash and chain link in order; report the first entry that fails."""
    previous, expected_seq = ZERO_HASH, 0
    while True:
        rows = session.execute(
            select(LedgerEntry.seq, LedgerEntry.entry, LedgerEntry.leaf_hash, LedgerEntry.chain_hash)
            .where(LedgerEntry.seq >= expected_seq).order_by(LedgerEntry.seq).limit(batch)
        ).all()
        if not rows:
            return VerifyReport(True, expected_seq)
        for seq, entry, leaf, link in rows:
            if seq != expected_seq:
                return VerifyReport(False, expected_seq, expected_seq, f"entry {expected_seq} is missing")
            if leaf_hash(entry) != leaf:
                return VerifyReport(False, expected_seq, seq, "entry bytes do not match their leaf hash")
            if chain_hash(previous, leaf) != link:
                return VerifyReport(False, expected_seq, seq, "chain hash does not follow from the previous entry")
            previous, expected_seq = link, seq + 1

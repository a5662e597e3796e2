"""Appending verdicts to the ledger, one writer at a time: entry, hash chain, Merkle nodes, checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, bindparam, insert, select
from sqlalchemy.orm import Session

from services.ledger.audit import VerifyReport, verify
from services.ledger.checkpoints import checkpoint_due, publish_locked
from services.ledger.entry import ZERO_HASH, chain_hash, entry_bytes, evidence_digest, leaf_hash
from services.ledger.keys import LogConfig, log_config
from services.ledger.merkle import perfect_nodes_to_store
from services.ledger.store import APPEND_LOCK_KEY, MissingNode, fetch_nodes, lock_for_append
from shared.models import (
    Decision,
    Evaluation,
    Fingerprint,
    LedgerCheckpoint,
    LedgerEntry,
    LedgerNode,
    Status,
    Submission,
    utcnow,
)
from shared.stage import advance

# verify and its report live in audit; re-exported because callers know the ledger as this module.
__all__ = ["APPEND_LOCK_KEY", "Appended", "VerifyReport", "append", "append_submission", "lock_for_append", "verify"]


@dataclass(frozen=True)
class Appended:
    """What an append did."""

    index: int
    created: bool  # False when the verdict was already in the log (a redelivered message)
    checkpoint_size: int | None = None  # the checkpoint this append published, if any
    uncovered: bool = False  # no checkpoint covers the new entry yet: one is due within every_s


@dataclass(frozen=True)
class _LogState:
    size: int
    head: bytes
    existing: int | None
    covered: int
    covered_at: datetime | None


_entries, _nodes, _checkpoints = (cast(Table, m.__table__) for m in (LedgerEntry, LedgerNode, LedgerCheckpoint))
_last = select(_entries).order_by(_entries.c.seq.desc()).limit(1)
_latest = select(_checkpoints).order_by(_checkpoints.c.size.desc()).limit(1)
# Everything an append reads under the lock, in one round trip. Core statements built once:
# appends are the hot path, and the ORM's per-statement work would cost more than the SQL.
_STATE = select(
    _last.with_only_columns(_entries.c.seq).scalar_subquery(),
    _last.with_only_columns(_entries.c.chain_hash).scalar_subquery(),
    select(_entries.c.seq).where(_entries.c.submission_id == bindparam("submission_id")).scalar_subquery(),
    _latest.with_only_columns(_checkpoints.c.size).scalar_subquery(),
    _latest.with_only_columns(_checkpoints.c.created_at).scalar_subquery(),
)
_EVIDENCE = (select(Decision, Evaluation, Fingerprint)
             .outerjoin(Evaluation, Evaluation.submission_id == Decision.submission_id)
             .outerjoin(Fingerprint, Fingerprint.submission_id == Decision.submission_id)
             .where(Decision.submission_id == bindparam("submission_id")))


def _log_state(connection: Connection, submission_id: str) -> _LogState:
    last_seq, head, existing, covered, covered_at = connection.execute(
        _STATE, {"submission_id": submission_id}).one()
    return _LogState(size=0 if last_seq is None else last_seq + 1, head=ZERO_HASH if head is None else bytes(head),
                     existing=existing, covered=covered or 0, covered_at=covered_at)


def _store_nodes(session: Session, index: int, leaf: bytes) -> None:
    # The new leaf completes one node per trailing one bit of its index; the left siblings it
    # needs are read in one query.
    wanted, level, i = [], 0, index
    while i & 1:
        wanted.append((level, i - 1))
        level, i = level + 1, i >> 1
    siblings = fetch_nodes(session, wanted)

    def get(level: int, index: int) -> bytes:
        if (level, index) not in siblings:
            raise MissingNode(f"stored Merkle node (level {level}, index {index}) is missing; cannot append")
        return siblings[(level, index)]

    nodes = perfect_nodes_to_store(index, leaf, get)
    session.connection().execute(insert(_nodes), [{"level": n.level, "index": n.index, "hash": n.hash}
                                                   for n in nodes])


def append(session: Session, submission: Submission, *, config: LogConfig | None = None) -> Appended:
    """Append the submission's verdict (exactly once), mark it recorded, and publish a checkpoint when due."""
    config = config or log_config()
    evidence = session.execute(_EVIDENCE, {"submission_id": submission.id}).one_or_none()
    if evidence is None:
        raise LookupError(f"submission {submission.id} has no verdict to record")
    decision, evaluation, fingerprint = evidence
    # Encoded before taking the lock, so the lock is held only for the reads and writes.
    entry = entry_bytes(submission, decision, evidence_digest(evaluation, fingerprint, decision))
    leaf = leaf_hash(entry)
    lock_for_append(session)
    connection = session.connection()
    state = _log_state(connection, submission.id)
    if state.existing is not None:
        advance(submission, Status.RECORDED)
        return Appended(index=state.existing, created=False)
    index = state.size
    connection.execute(insert(_entries), {"seq": index, "submission_id": submission.id, "entry": entry,
                                           "leaf_hash": leaf, "chain_hash": chain_hash(state.head, leaf),
                                           "created_at": utcnow()})
    _store_nodes(session, index, leaf)
    submission.recorded_at = utcnow()
    advance(submission, Status.RECORDED)
    if checkpoint_due(size=index + 1, covered=state.covered, covered_at=state.covered_at, config=config):
        published = publish_locked(session, config=config, size=index + 1)
        return Appended(index=index, created=True, checkpoint_size=published.size if published else None)
    return Appended(index=index, created=True, uncovered=True)


def append_submission(session: Session, submission: Submission) -> None:
    """Stage function for the ledger task."""
    append(session, submission)

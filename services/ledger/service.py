"""Appending verdicts to the ledger, one writer at a time: entry, hash chain, Merkle nodes, checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Connection, Table, bindparam, insert, select, text
from sqlalchemy.orm import Session

from services.ledger.audit import VerifyReport, verify
from services.ledger.checkpoints import checkpoint_due, publish_locked
from services.ledger.entry import ZERO_HASH, chain_hash, entry_bytes, evidence_digest, leaf_hash
from services.ledger.keys import LogConfig, log_config
from services.ledger.merkle import StoredNode, perfect_nodes_to_store
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
__all__ = ["APPEND_LOCK_KEY", "Appended", "VerifyReport", "append", "append_entry", "append_submission",
           "lock_for_append", "verdict_entry", "verify"]


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
_LOCK_AND_STATE = text("SELECT * FROM aura_ledger_append_state(:key, :submission_id)")
_EVIDENCE = (select(Decision, Evaluation, Fingerprint)
             .outerjoin(Evaluation, Evaluation.submission_id == Decision.submission_id)
             .outerjoin(Fingerprint, Fingerprint.submission_id == Decision.submission_id)
             .where(Decision.submission_id == bindparam("submission_id")))


def _lock_and_read_state(connection: Connection, submission_id: str) -> _LogState:
    """Take the append lock, then read the log's state (one round trip on PostgreSQL)."""
    if connection.dialect.name == "postgresql":  # the function is in migration 0003
        row = connection.execute(_LOCK_AND_STATE, {"key": APPEND_LOCK_KEY, "submission_id": submission_id}).one()
    else:  # SQLite: BEGIN IMMEDIATE already serialises writers
        row = connection.execute(_STATE, {"submission_id": submission_id}).one()
    last_seq, head, existing, covered, covered_at = row
    return _LogState(size=0 if last_seq is None else last_seq + 1, head=ZERO_HASH if head is None else bytes(head),
                     existing=existing, covered=covered or 0, covered_at=covered_at)


@dataclass(frozen=True)
class _Frontier:
    """The last node this process saw completed at each level, valid while the log is at (size, head)."""

    size: int
    head: bytes
    last: dict[int, tuple[int, bytes]]  # level -> (index, hash)


# Per database. A log that still has the size and chain head this process left it at has not
# been written since (the chain head commits to every entry), so the left siblings the next leaf
# needs are known without a query: with one writer, appends never read nodes.
_frontiers: dict[str, _Frontier] = {}


def _store_nodes(connection: Connection, index: int, leaf: bytes, known: dict[int, tuple[int, bytes]]) \
        -> list[StoredNode]:
    # The new leaf completes one node per trailing one bit of its index; the left siblings it
    # needs come from `known` or else from one query.
    wanted, level, i = [], 0, index
    while i & 1:
        wanted.append((level, i - 1))
        level, i = level + 1, i >> 1
    siblings = {(lvl, j): known[lvl][1] for lvl, j in wanted if lvl in known and known[lvl][0] == j}
    if len(siblings) < len(wanted):
        siblings |= fetch_nodes(connection, [key for key in wanted if key not in siblings])

    def get(level: int, index: int) -> bytes:
        if (level, index) not in siblings:
            raise MissingNode(f"stored Merkle node (level {level}, index {index}) is missing; cannot append")
        return siblings[(level, index)]

    nodes = perfect_nodes_to_store(index, leaf, get)
    connection.execute(insert(_nodes), [{"level": n.level, "index": n.index, "hash": n.hash} for n in nodes])
    return nodes


def verdict_entry(session: Session, submission: Submission) -> bytes:
    """The canonical entry bytes of the submission's verdict, from the rows the earlier stages wrote."""
    evidence = session.execute(_EVIDENCE, {"submission_id": submission.id}).one_or_none()
    if evidence is None:
        raise LookupError(f"submission {submission.id} has no verdict to record")
    decision, evaluation, fingerprint = evidence
    return entry_bytes(submission, decision, evidence_digest(evaluation, fingerprint, decision))


def append_entry(session: Session, submission_id: str, entry: bytes, *, config: LogConfig) -> Appended:
    """Add an entry for the submission to the log (once): hash chain, Merkle nodes, checkpoint when due."""
    leaf = leaf_hash(entry)  # before the lock, which is held only for the reads and writes
    connection = session.connection()
    state = _lock_and_read_state(connection, submission_id)
    if state.existing is not None:
        return Appended(index=state.existing, created=False)
    index, head = state.size, chain_hash(state.head, leaf)
    connection.execute(insert(_entries), {"seq": index, "submission_id": submission_id, "entry": entry,
                                           "leaf_hash": leaf, "chain_hash": head, "created_at": utcnow()})
    database = connection.engine.url.render_as_string()
    cached = _frontiers.get(database)
    known = cached.last if cached is not None and (cached.size, cached.head) == (state.size, state.head) else {}
    nodes = _store_nodes(connection, index, leaf, known)
    # Set while holding the lock; if this transaction rolls back, the log stays at the old size
    # and head, the entry does not match, and the next append reads the nodes.
    _frontiers[database] = _Frontier(index + 1, head, known | {n.level: (n.index, n.hash) for n in nodes})
    if checkpoint_due(size=index + 1, covered=state.covered, covered_at=state.covered_at, config=config):
        published = publish_locked(session, config=config, size=index + 1)
        return Appended(index=index, created=True, checkpoint_size=published.size if published else None)
    return Appended(index=index, created=True, uncovered=True)


def append(session: Session, submission: Submission, *, config: LogConfig | None = None) -> Appended:
    """Append the submission's verdict (exactly once), mark it recorded, and publish a checkpoint when due."""
    appended = append_entry(session, submission.id, verdict_entry(session, submission), config=config or log_config())
    if appended.created:
        submission.recorded_at = utcnow()
    advance(submission, Status.RECORDED)
    return appended


def append_submission(session: Session, submission: Submission) -> None:
    """Stage function for the ledger task."""
    append(session, submission)

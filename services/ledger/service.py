"""Appending verdicts to the ledger, one writer at a time: entry, hash chain, Merkle nodes, checkpoint."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from services.ledger.append_sql import (
    LogState,
    end_transaction,
    folded_transaction,
    lock_and_read_decision,
    lock_and_read_state,
    write_entry,
    write_recorded_entry,
)
from services.ledger.audit import VerifyReport, verify
from services.ledger.checkpoints import checkpoint_due, publish_locked
from services.ledger.entry import calibration_entry_bytes, chain_hash, entry_bytes, leaf_hash
from services.ledger.keys import LogConfig, log_config
from services.ledger.merkle import StoredNode, perfect_nodes_to_store
from services.ledger.store import APPEND_LOCK_KEY, MissingNode, fetch_nodes, lock_for_append
from shared.evidence import evidence_digest
from shared.models import Calibration as CalibrationRow
from shared.models import Decision, Evaluation, Fingerprint, LedgerEntry, Status, Submission, utcnow
from shared.stage import advance, load_submission

# verify and its report live in audit; re-exported because callers know the ledger as this module.
__all__ = ["APPEND_LOCK_KEY", "Appended", "VerifyReport", "append", "append_calibration", "append_entry",
           "append_submission", "lock_for_append", "verdict_entry", "verify"]

@dataclass(frozen=True)
class Appended:
    """What an append did."""

    index: int
    created: bool  # False when the verdict was already in the log (a redelivered message)
    checkpoint_size: int | None = None  # the checkpoint this append published, if any
    uncovered: bool = False  # no checkpoint covers the new entry yet: one is due within every_s


_EVIDENCE = (select(Decision.features, Evaluation, Fingerprint)
             .outerjoin(Evaluation, Evaluation.submission_id == Decision.submission_id)
             .outerjoin(Fingerprint, Fingerprint.submission_id == Decision.submission_id)
             .where(Decision.submission_id == bindparam("submission_id")))


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


def _nodes_to_store(connection: Connection, index: int, leaf: bytes, known: dict[int, tuple[int, bytes]]) \
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

    return perfect_nodes_to_store(index, leaf, get)


def _digest(session: Session, submission_id: str, recorded: str | None) -> str:
    """The decision's evidence digest: the one the detector recorded, else one taken from the evidence rows."""
    if recorded is not None:
        return recorded
    features, evaluation, fingerprint = session.execute(_EVIDENCE, {"submission_id": submission_id}).one()
    return evidence_digest(evaluation, fingerprint, features)


def verdict_entry(session: Session, submission: Submission) -> bytes:
    """The canonical entry bytes of the submission's verdict, from the rows the earlier stages wrote."""
    decision = session.get(Decision, submission.id)
    if decision is None:
        raise LookupError(f"submission {submission.id} has no verdict to record")
    return entry_bytes(submission, decision, _digest(session, submission.id, decision.evidence_sha256))


def _add(session: Session, state: LogState, submission_id: str | None, entry: bytes, *, config: LogConfig,
         now: datetime, mark_recorded: bool = False, commit: bool = False, calibration_id: int | None = None) \
        -> Appended:
    """Write a new entry at the end of the log the lock holder found; publish a checkpoint when due.

    The entry belongs to a verdict (`submission_id`) or to a calibration (`calibration_id`).
    `mark_recorded`: the same statement marks the submission recorded (PostgreSQL). `commit`: the
    transaction is a folded one (`folded_transaction`), which this ends.
    """
    connection = session.connection()
    leaf = leaf_hash(entry)
    index, head = state.size, chain_hash(state.head, leaf)
    database = connection.engine.url.render_as_string()
    cached = _frontiers.get(database)
    known = cached.last if cached is not None and (cached.size, cached.head) == (state.size, state.head) else {}
    nodes = _nodes_to_store(connection, index, leaf, known)
    due = checkpoint_due(size=index + 1, covered=state.covered, covered_at=state.covered_at, config=config)
    row = {"seq": index, "submission_id": submission_id, "entry": entry, "leaf_hash": leaf, "chain_hash": head,
           "created_at": now} | ({"calibration_id": calibration_id} if calibration_id is not None else {})
    if mark_recorded:
        write_recorded_entry(connection, row, nodes, commit=commit and not due)
    else:
        write_entry(connection, row, nodes)
    # Set while holding the lock; if this transaction rolls back, the log stays at the old size
    # and head, the entry does not match, and the next append reads the nodes.
    _frontiers[database] = _Frontier(index + 1, head, known | {n.level: (n.index, n.hash) for n in nodes})
    if due:
        published = publish_locked(session, config=config, size=index + 1)
        if commit:
            end_transaction(connection)
        return Appended(index=index, created=True, checkpoint_size=published.size if published else None)
    return Appended(index=index, created=True, uncovered=True)


def append_entry(session: Session, submission_id: str, entry: bytes, *, config: LogConfig) -> Appended:
    """Add an entry for the submission to the log (once): hash chain, Merkle nodes, checkpoint when due."""
    state = lock_and_read_state(session.connection(), submission_id)
    if state.existing is not None:
        return Appended(index=state.existing, created=False)
    return _add(session, state, submission_id, entry, config=config, now=utcnow())


def append_calibration(session: Session, calibration: CalibrationRow, *, config: LogConfig | None = None) \
        -> Appended:
    """Record a federation's new calibration in the log (once), in the caller's transaction.

    Every later verdict of the federation is judged with it, so who fitted what, from which
    rounds, is an audited event of the same verifiable log as the verdicts.
    """
    config = config or log_config()
    session.flush()  # the row's id and created_at
    state = lock_and_read_state(session.connection(), None)
    existing = session.scalar(select(LedgerEntry.seq).where(LedgerEntry.calibration_id == calibration.id))
    if existing is not None:
        return Appended(index=existing, created=False)
    return _add(session, state, None, calibration_entry_bytes(calibration), config=config, now=utcnow(),
                calibration_id=calibration.id)


def _learn_recorded(session: Session, submission_id: str, now: datetime) -> None:
    # The row was updated by the entry's statement; a copy this session already holds learns the
    # values as committed ones, so it is not stale and the ORM flushes no second UPDATE.
    loaded = session.identity_map.get(identity_key(Submission, submission_id))
    if loaded is not None:
        for key, value in (("status", Status.RECORDED.value), ("recorded_at", now), ("updated_at", now)):
            set_committed_value(loaded, key, value)


def append(session: Session, submission_id: str, *, config: LogConfig | None = None,
           own_transaction: bool = False) -> Appended:
    """Append the submission's verdict (exactly once), mark it recorded, and publish a checkpoint when due.

    `own_transaction`: the session has not been used yet, and on PostgreSQL the append runs and
    commits its transaction itself, folded into its two statements (`folded_transaction`): two
    round trips in all instead of four. The caller still commits the session, which then sends
    nothing but runs the after-commit work (checkpoint files, the checkpoint timer).
    """
    config = config or log_config()
    if session.get_bind().dialect.name != "postgresql":
        submission = load_submission(session, submission_id)
        appended = append_entry(session, submission.id, verdict_entry(session, submission), config=config)
        if appended.created:
            submission.recorded_at = utcnow()
        advance(submission, Status.RECORDED)
        return appended
    if not own_transaction:
        return _append_on_postgresql(session, session.connection(), submission_id, config, fold=False)
    connection = session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    with folded_transaction(connection):
        return _append_on_postgresql(session, connection, submission_id, config, fold=True)


def _append_on_postgresql(session: Session, connection: Connection, submission_id: str, config: LogConfig, *,
                          fold: bool) -> Appended:
    # One call locks and reads the log, the submission and its decision, one statement writes
    # the entry, its nodes and the submission's status: two statements in all, no ORM load (but
    # for a decision without its evidence digest). The entry is encoded under the lock; that
    # takes ~0.04 ms, less than the round trip a separate read before the lock would cost.
    state, row, decision = lock_and_read_decision(connection, submission_id, begin=fold)
    if row is None:
        raise LookupError(f"submission {submission_id} not found")
    if state.existing is not None:
        # A redelivered message (rare): the entry is in; the ORM makes sure the status says so.
        if fold:
            end_transaction(connection)
        advance(load_submission(session, submission_id), Status.RECORDED)
        return Appended(index=state.existing, created=False)
    if decision is None:
        raise LookupError(f"submission {submission_id} has no verdict to record")
    entry = entry_bytes(row, decision, _digest(session, submission_id, decision.evidence_sha256))
    now = utcnow()
    appended = _add(session, state, submission_id, entry, config=config, now=now, mark_recorded=True, commit=fold)
    _learn_recorded(session, submission_id, now)
    return appended


def append_submission(session: Session, submission_id: str) -> None:
    """Stage function for the ledger task (the stage's session is fresh)."""
    append(session, submission_id, own_transaction=True)

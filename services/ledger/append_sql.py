"""The SQL of one append, in as few round trips as the database allows.

On PostgreSQL an append is two statements: one call takes the advisory lock and reads the log's
state (for the ledger stage, also the submission and decision rows the entry encodes), and one
statement writes the entry, its Merkle nodes and (for the stage) the submission's new status.
SQLite has neither the functions nor data-modifying CTEs, and needs no lock: BEGIN IMMEDIATE
serialises writers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Connection, Table, bindparam, insert, select
from sqlalchemy.exc import DBAPIError

from services.ledger.entry import ZERO_HASH
from services.ledger.merkle import StoredNode
from services.ledger.store import APPEND_LOCK_KEY
from shared.models import LedgerCheckpoint, LedgerEntry, LedgerNode, Status


@dataclass(frozen=True)
class LogState:
    """The log as an append finds it, under the lock."""

    size: int
    head: bytes
    existing: int | None  # the index of the submission's entry, if it is already in the log
    covered: int
    covered_at: datetime | None


class SubmissionRow(NamedTuple):
    """The submission fields an entry encodes."""

    id: str
    hospital_id: str
    task: str
    round: int
    file_sha256: str
    tensor_sha256: str
    signature: str | None
    created_at: datetime
    federation: str
    run: int


class DecisionRow(NamedTuple):
    """The decision fields an entry encodes, with the digest of its evidence (None: not taken at decision time)."""

    verdict: str
    score: float
    threshold: float
    reasons: list[Any]
    created_at: datetime
    evidence_sha256: str | None
    calibration: str | None


_entries, _nodes, _checkpoints = (cast(Table, m.__table__) for m in (LedgerEntry, LedgerNode, LedgerCheckpoint))
_last = select(_entries).order_by(_entries.c.seq.desc()).limit(1)
_latest = select(_checkpoints).order_by(_checkpoints.c.size.desc()).limit(1)
# Core statements built once: appends are the hot path, and the ORM's per-statement work would
# cost more than the SQL.
_SQLITE_STATE = select(  # the columns of aura_ledger_append_state (migration 0003), by the same names
    _last.with_only_columns(_entries.c.seq).scalar_subquery().label("last_seq"),
    _last.with_only_columns(_entries.c.chain_hash).scalar_subquery().label("head"),
    select(_entries.c.seq).where(_entries.c.submission_id == bindparam("submission_id")).scalar_subquery()
    .label("existing"),
    _latest.with_only_columns(_checkpoints.c.size).scalar_subquery().label("covered"),
    _latest.with_only_columns(_checkpoints.c.created_at).scalar_subquery().label("covered_at"),
)
# PostgreSQL statements in the driver's own parameter style: they run on the DBAPI cursor (_run).
_LOCK_AND_STATE = "SELECT * FROM aura_ledger_append_state(%(key)s, %(submission_id)s)"  # migration 0003
_LOCK_STATE_AND_DECISION = "SELECT * FROM aura_ledger_append_decision_state(%(key)s, %(submission_id)s)"  # 0010
_INSERT_ENTRY = """
    WITH entry AS (
        INSERT INTO ledger_entries (seq, submission_id, entry, leaf_hash, chain_hash, created_at)
        VALUES (%(seq)s, %(submission_id)s, %(entry)s, %(leaf_hash)s, %(chain_hash)s, %(created_at)s)
    )
"""
_INSERT_NODES = """
    INSERT INTO ledger_nodes (level, "index", hash)
    SELECT * FROM unnest(CAST(%(levels)s AS integer[]), CAST(%(indexes)s AS integer[]), CAST(%(hashes)s AS bytea[]))
"""
_WRITE = _INSERT_ENTRY + _INSERT_NODES
_WRITE_AND_MARK_RECORDED = (_INSERT_ENTRY + ", nodes AS (" + _INSERT_NODES + ")"
                            "UPDATE submissions SET status = %(status)s, recorded_at = %(created_at)s, "
                            "updated_at = %(created_at)s WHERE id = %(submission_id)s")
# A folded transaction's first statement opens it and its last commits it (simple query
# protocol: one round trip runs them all, and stops at the first error).
_BEGIN, _COMMIT = "BEGIN; ", "; COMMIT"


def _run(connection: Connection, sql: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """Execute on the DBAPI cursor of the connection's transaction; the first row by column name, if it has rows."""
    # SQLAlchemy sets up a result object for every statement: measured on the verdict read, that
    # is ~0.1 ms of CPU, more than the driver's own work. The price: engine events (statement
    # logging, before_cursor_execute) do not see these two statements.
    dialect, dbapi_connection = connection.dialect, connection.connection.dbapi_connection
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, params)
        row = cursor.fetchone() if cursor.description else None
        return None if row is None else {column[0]: value for column, value in zip(cursor.description, row,
                                                                                   strict=True)}
    except dialect.loaded_dbapi.Error as exc:
        # As Connection.execute does: a lost connection is invalidated (the pool will not hand
        # it out again), and the error is SQLAlchemy's, which the stage task retries on.
        lost = dialect.is_disconnect(exc, dbapi_connection, cursor)
        if lost:
            connection.invalidate(exc)
        raise DBAPIError.instance(sql, params, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost,
                                  dialect=dialect) from exc
    finally:
        cursor.close()


@contextmanager
def folded_transaction(connection: Connection) -> Iterator[None]:
    """Run one append's transaction on an autocommit connection, BEGIN and COMMIT sent with its statements.

    psycopg2 sends its own BEGIN before a transaction's first statement and COMMIT after the
    last, a round trip each: half of an append's four. Here the caller's first statement
    carries the BEGIN (`begin=True`) and its last the COMMIT (`commit=True`, or `end_transaction`).
    Anything raised inside rolls the transaction back here: an autocommit connection goes back
    to the pool without a rollback of its own, so an open transaction must never leave this block.
    """
    dbapi_connection = connection.connection.dbapi_connection
    if not getattr(dbapi_connection, "autocommit", False):
        raise RuntimeError("a folded transaction needs an autocommit connection (a session not used yet)")
    try:
        yield
    except BaseException:
        try:
            _run(connection, "ROLLBACK", {})  # after a COMMIT already sent, only a server warning
        except Exception:
            connection.invalidate()  # the pool must not hand out a connection in an unknown state
        raise


def end_transaction(connection: Connection) -> None:
    """Commit a folded transaction whose last statement did not."""
    _run(connection, "COMMIT", {})


def _one(connection: Connection, function_call: str, submission_id: str | None) -> dict[str, Any]:
    row = _run(connection, function_call, {"key": APPEND_LOCK_KEY, "submission_id": submission_id})
    if row is None:
        raise RuntimeError(f"{function_call} returned no row")  # it always returns exactly one
    return row


def _log_state(row: Mapping[str, Any]) -> LogState:
    last_seq, head = row["last_seq"], row["head"]
    return LogState(size=0 if last_seq is None else last_seq + 1, head=ZERO_HASH if head is None else bytes(head),
                    existing=row["existing"], covered=row["covered"] or 0, covered_at=row["covered_at"])


def lock_and_read_state(connection: Connection, submission_id: str | None) -> LogState:
    """Take the append lock, then read the log's state (one round trip on PostgreSQL).

    `existing` is the submission's entry, if any (None for a calibration's entry: no submission).
    """
    if connection.dialect.name == "postgresql":
        return _log_state(_one(connection, _LOCK_AND_STATE, submission_id))
    return _log_state(dict(connection.execute(_SQLITE_STATE, {"submission_id": submission_id}).one()._mapping))


def _decision_row(row: Mapping[str, Any]) -> DecisionRow | None:
    if not row["decided"]:
        return None
    return DecisionRow(verdict=row["verdict"], score=row["score"], threshold=row["threshold"], reasons=row["reasons"],
                       created_at=row["decided_at"], evidence_sha256=row["evidence_sha256"],
                       calibration=row["calibration"])


def _submission_row(submission_id: str, row: Mapping[str, Any]) -> SubmissionRow | None:
    if not row["found"]:
        return None
    return SubmissionRow(id=submission_id, hospital_id=row["hospital_id"], task=row["task"], round=row["round"],
                         file_sha256=row["file_sha256"], tensor_sha256=row["tensor_sha256"],
                         signature=row["signature"], created_at=row["submitted_at"], federation=row["federation"],
                         run=row["run"])


def lock_and_read_decision(connection: Connection, submission_id: str, *, begin: bool = False) \
        -> tuple[LogState, SubmissionRow | None, DecisionRow | None]:
    """Take the append lock, read the log's state, the submission and its decision (PostgreSQL, one round trip).

    `begin`: the first statement of a folded transaction.
    """
    row = _one(connection, (_BEGIN if begin else "") + _LOCK_STATE_AND_DECISION, submission_id)
    return _log_state(row), _submission_row(submission_id, row), _decision_row(row)


def _node_arrays(nodes: list[StoredNode]) -> dict[str, list[Any]]:
    return {"levels": [n.level for n in nodes], "indexes": [n.index for n in nodes], "hashes": [n.hash for n in nodes]}


def write_entry(connection: Connection, entry: dict[str, Any], nodes: list[StoredNode]) -> None:
    """Insert the entry row and its Merkle nodes (one statement on PostgreSQL)."""
    if connection.dialect.name == "postgresql" and entry.get("calibration_id") is None:  # a verdict's: the hot path
        _run(connection, _WRITE, entry | _node_arrays(nodes))
        return
    connection.execute(insert(_entries), entry)
    connection.execute(insert(_nodes), [{"level": n.level, "index": n.index, "hash": n.hash} for n in nodes])


def write_recorded_entry(connection: Connection, entry: dict[str, Any], nodes: list[StoredNode], *,
                         commit: bool = False) -> None:
    """`write_entry` that also marks the submission recorded at the entry's time, in the same statement (PostgreSQL).

    `commit`: the last statement of a folded transaction.
    """
    _run(connection, _WRITE_AND_MARK_RECORDED + (_COMMIT if commit else ""),
         entry | _node_arrays(nodes) | {"status": Status.RECORDED.value})

"""Full verification of the stored log: every entry, chain link, Merkle node and signed checkpoint.

Entries are replayed in index order; the report names the first index that fails and why. A
checkpoint's root can only say that *something* in the range since the previous matching
checkpoint changed, so for a rewrite that kept hashes and nodes consistent the report names the
first index the signed checkpoints no longer vouch for.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Generator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, Engine, LargeBinary, Table, and_, func, literal, or_, select, text
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from services.ledger.checkpoints import checkpoint_files, open_checkpoint
from services.ledger.keys import LogConfig, log_config
from services.ledger.merkle import StoredNode
from services.ledger.replay import Replay
from services.ledger.store import log_size
from services.ledger.verify_offline import RootCheck, VerificationFailed, signed_roots
from shared.models import LedgerCheckpoint, LedgerNode


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of a full recomputation of the log."""

    ok: bool
    size: int
    first_bad_index: int | None = None
    problem: str | None = None
    checkpoint_size: int | None = None  # the largest signed checkpoint the log was checked against
    checkpoints_checked: int = 0


# Core and plain SQL, not ORM entities: the audit streams every row, and ORM row handling (even
# bytea-to-bytes conversion) would cost more than the hashing.
_nodes = cast(Table, LedgerNode.__table__)
# One bytea per row, entry || leaf hash || chain hash, split here: psycopg2 spends more on each
# bytea value than on its bytes, and three per row took twice as long to read as one.
_ENTRIES = text("SELECT seq, octet_length(entry), entry || leaf_hash || chain_hash FROM ledger_entries "
                "WHERE seq >= :start ORDER BY seq LIMIT :batch")
_ENTRIES_PLAIN = text("SELECT seq, entry, leaf_hash, chain_hash FROM ledger_entries WHERE seq >= :start "
                      "ORDER BY seq LIMIT :batch")


class _Failed(Exception):
    def __init__(self, index: int | None, problem: str) -> None:
        super().__init__(problem)
        self.index, self.problem = index, problem


def _signed_roots(session: Session, config: LogConfig) -> dict[int, bytes]:
    """Every signed checkpoint, from the table and the write-once folder, checked and merged."""
    rows = list(session.scalars(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size)))
    files = checkpoint_files(config.checkpoint_dir)
    try:
        roots = signed_roots([(f"checkpoint {row.size} in the database", row.note.encode()) for row in rows]
                             + [(f"checkpoint file {path.name}", note.encode()) for path, note in files],
                             config.vkey, config.origin)
    except VerificationFailed as exc:
        raise _Failed(None, str(exc)) from exc
    for row in rows:
        signed = open_checkpoint(row.note, config)  # its signature was checked just above
        if (signed.size, signed.root) != (row.size, bytes(row.root_hash)):
            raise _Failed(None, f"checkpoint row {row.size} disagrees with its own signed note")
    for size in sorted(set(roots) - {row.size for row in rows}):
        raise _Failed(None, f"checkpoint {size} is in the checkpoint folder but was removed from the database")
    return roots


def _node_ranges(start: int, end: int, max_level: int) -> list[tuple[int, int, int]]:
    """(level, first index, last index) of the nodes completed by appending leaves [start, end)."""
    ranges = []
    for level in range(max_level + 1):
        # Node (level, j) is completed by leaf (j + 1) * 2**level - 1.
        lo, hi = ((start + (1 << level)) >> level) - 1, (end >> level) - 1
        if lo <= hi:
            ranges.append((level, lo, hi))
    return ranges


def _in_ranges(ranges: list[tuple[int, int, int]]) -> ColumnElement[bool]:
    return or_(*(and_(_nodes.c.level == level, _nodes.c.index.between(lo, hi)) for level, lo, hi in ranges))


def _stored_digest(connection: Connection, ranges: list[tuple[int, int, int]]) -> tuple[int, bytes] | None:
    """(count, SHA-256 of the hashes in (level, index) order) of the stored nodes in `ranges`; None off PostgreSQL."""
    if connection.dialect.name != "postgresql":
        return None
    digest = func.sha256(func.coalesce(func.string_agg(_nodes.c.hash, aggregate_order_by(
        literal(b"", LargeBinary), _nodes.c.level, _nodes.c.index)), literal(b"", LargeBinary)))
    count, value = connection.execute(select(func.count(), digest).where(_in_ranges(ranges))).one()
    return count, bytes(value)


@dataclass(frozen=True)
class _Batch:
    """A batch of entries as read, and a digest of the stored nodes they should have completed."""

    rows: list[Any]
    start: int
    end: int
    stored_digest: tuple[int, bytes] | None


def _read_batch(connection: Connection, start: int, batch: int) -> _Batch:
    if connection.dialect.name == "postgresql":
        rows: list[Any] = list(connection.execute(_ENTRIES, {"start": start, "batch": batch}).all())
    else:  # SQLite's || makes text of blobs
        rows = [(seq, len(entry), entry + leaf + chain) for seq, entry, leaf, chain in connection.execute(
            _ENTRIES_PLAIN, {"start": start, "batch": batch})]
    end = rows[-1][0] + 1 if rows else start
    ranges = _node_ranges(start, end, end.bit_length())
    return _Batch(rows, start, end, _stored_digest(connection, ranges) if rows else None)


def _check_nodes(connection: Connection, batch: _Batch, end: int, computed: list[StoredNode]) -> None:
    """Compare the nodes the batch completed up to leaf `end` with the stored ones; raise at the first bad one."""
    if not computed:
        return
    by_level: dict[int, list[bytes]] = {}
    for node in computed:  # completion order; within a level, indexes ascend
        by_level.setdefault(node.level, []).append(node.hash)
    expected = (len(computed), hashlib.sha256(b"".join(h for level in sorted(by_level) for h in by_level[level]))
                .digest())
    # On PostgreSQL the database sent one digest of the stored nodes instead of the nodes
    # themselves; they are fetched only to say which one is wrong.
    if end == batch.end and batch.stored_digest == expected:
        return
    ranges = _node_ranges(batch.start, end, max(n.level for n in computed))
    stored = {(level, index): bytes(h) for level, index, h in connection.execute(
        select(_nodes.c.level, _nodes.c.index, _nodes.c.hash).where(_in_ranges(ranges))).all()}
    for node in computed:  # in completion order, so the first mismatch is the earliest entry
        if stored.get((node.level, node.index)) != node.hash:
            first, last = node.index << node.level, ((node.index + 1) << node.level) - 1
            what = "is missing" if (node.level, node.index) not in stored else "does not match the entries"
            raise _Failed(last, f"stored Merkle node (level {node.level}, index {node.index}) over entries "
                                f"[{first}, {last}] {what}")


def _replay_batch(rows: list[tuple[int, int, bytes]], replay: Replay, roots: RootCheck,
                  computed: list[StoredNode]) -> None:
    for seq, length, stored in rows:
        index = replay.size
        if seq != index:
            raise _Failed(index, f"entry {index} is missing")
        if len(stored) != length + 64:
            raise _Failed(index, "stored leaf or chain hash is not 32 bytes")
        # bytes(): psycopg2 hands bytea over as memoryviews, which never compare equal to bytes.
        stored = bytes(stored)
        leaf, chain, nodes = replay.append(stored[:length])
        if leaf != stored[length:length + 32]:
            raise _Failed(index, "entry bytes do not match their leaf hash")
        if chain != stored[length + 32:]:
            raise _Failed(index, "chain hash does not follow from the previous entry")
        computed.extend(nodes)
        problem = roots.problem(replay)
        if problem:
            raise _Failed(roots.matched, problem)


def _batches(session: Session, batch_size: int) -> Generator[_Batch]:
    """The log's entries in batches, in index order."""
    bind = session.get_bind()
    if not (isinstance(bind, Engine) and bind.dialect.name == "postgresql"):
        # On SQLite every transaction takes the one write lock: read on the session's connection.
        start = 0
        while (batch := _read_batch(session.connection(), start, batch_size)).rows:
            yield batch
            start = batch.end
        return
    # Batches are read on a second connection, one ahead, so the database works while the caller
    # hashes: reading costs as much as hashing. The log only grows, so the reader's newer
    # snapshot holds at least what the session sees.
    with bind.connect() as reader, ThreadPoolExecutor(1, thread_name_prefix="ledger-audit") as pool:
        pending = pool.submit(_read_batch, reader, 0, batch_size)
        while (batch := pending.result()).rows:
            pending = pool.submit(_read_batch, reader, batch.end, batch_size)
            yield batch


def _replay(session: Session, roots: RootCheck, batch_size: int) -> int:
    """Replay every entry against the stored hashes, nodes and signed roots; return the size."""
    replay = Replay()
    with contextlib.closing(_batches(session, batch_size)) as batches:
        for batch in batches:
            computed = list[StoredNode]()
            try:
                _replay_batch(batch.rows, replay, roots, computed)
            except _Failed as failure:
                # A node damaged before the failing entry is the earlier fault.
                _check_nodes(session.connection(), batch, replay.size, computed)
                raise failure from None
            _check_nodes(session.connection(), batch, replay.size, computed)
    return replay.size


def verify(session: Session, *, config: LogConfig | None = None, batch: int = 8192) -> VerifyReport:
    """Recompute the whole log and check it against the stored nodes and every signed checkpoint."""
    config = config or log_config()
    size, checked = 0, 0
    try:
        roots = _signed_roots(session, config)
        checked = len(roots)
        check = RootCheck(roots)
        size = _replay(session, check, batch)
        beyond = [s for s in roots if s > size]
        if beyond:
            raise _Failed(size, f"the log has {size} entries but checkpoint {max(beyond)} was signed: "
                                f"entries from {size} on were removed")
        expected_nodes = sum(size >> level for level in range(size.bit_length()))
        stored_nodes = session.scalar(select(func.count()).select_from(LedgerNode)) or 0
        if stored_nodes != expected_nodes:
            raise _Failed(size, f"the node table holds {stored_nodes} nodes; a log of {size} entries has "
                                f"{expected_nodes}")
    except _Failed as failure:
        return VerifyReport(False, log_size(session), failure.index, failure.problem, checkpoints_checked=checked)
    return VerifyReport(True, size, checkpoint_size=check.matched or None, checkpoints_checked=checked)

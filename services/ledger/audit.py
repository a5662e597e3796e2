"""Full verification of the stored log: every entry, chain link, Merkle node and signed checkpoint.

Entries are replayed in index order; the report names the first index that fails and why. A
checkpoint's root can only say that *something* in the range since the previous matching
checkpoint changed, so for a rewrite that kept hashes and nodes consistent the report names the
first index the signed checkpoints no longer vouch for.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from services.ledger.checkpoints import checkpoint_files, open_checkpoint
from services.ledger.keys import LogConfig, log_config
from services.ledger.merkle import StoredNode
from services.ledger.replay import Replay
from services.ledger.store import log_size
from services.ledger.verify_offline import RootCheck, VerificationFailed, signed_roots
from shared.models import LedgerCheckpoint, LedgerEntry, LedgerNode


@dataclass(frozen=True)
class VerifyReport:
    """Outcome of a full recomputation of the log."""

    ok: bool
    size: int
    first_bad_index: int | None = None
    problem: str | None = None
    checkpoint_size: int | None = None  # the largest signed checkpoint the log was checked against
    checkpoints_checked: int = 0


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


def _check_nodes(session: Session, start: int, computed: list[StoredNode]) -> None:
    if not computed:
        return
    end = start + sum(1 for n in computed if n.level == 0)
    ranges = _node_ranges(start, end, max(n.level for n in computed))
    stored = {(level, index): bytes(h) for level, index, h in session.execute(
        select(LedgerNode.level, LedgerNode.index, LedgerNode.hash).where(or_(*(
            and_(LedgerNode.level == level, LedgerNode.index.between(lo, hi)) for level, lo, hi in ranges))))}
    for node in computed:  # in completion order, so the first mismatch is the earliest entry
        if stored.get((node.level, node.index)) != node.hash:
            first, last = node.index << node.level, ((node.index + 1) << node.level) - 1
            what = "is missing" if (node.level, node.index) not in stored else "does not match the entries"
            raise _Failed(last, f"stored Merkle node (level {node.level}, index {node.index}) over entries "
                                f"[{first}, {last}] {what}")


def _replay_batch(rows: list[tuple[int, bytes, bytes, bytes]], replay: Replay, roots: RootCheck,
                  computed: list[StoredNode]) -> None:
    for seq, entry, stored_leaf, stored_chain in rows:
        index = replay.size
        if seq != index:
            raise _Failed(index, f"entry {index} is missing")
        leaf, chain, nodes = replay.append(entry)
        if leaf != stored_leaf:
            raise _Failed(index, "entry bytes do not match their leaf hash")
        if chain != stored_chain:
            raise _Failed(index, "chain hash does not follow from the previous entry")
        computed.extend(nodes)
        problem = roots.problem(replay)
        if problem:
            raise _Failed(roots.matched, problem)


def _replay(session: Session, roots: RootCheck, batch: int) -> int:
    """Replay every entry against the stored hashes, nodes and signed roots; return the size."""
    replay = Replay()
    while True:
        rows = session.execute(
            select(LedgerEntry.seq, LedgerEntry.entry, LedgerEntry.leaf_hash, LedgerEntry.chain_hash)
            .where(LedgerEntry.seq >= replay.size).order_by(LedgerEntry.seq).limit(batch)).all()
        if not rows:
            return replay.size
        start, computed = replay.size, list[StoredNode]()
        try:
            _replay_batch(rows, replay, roots, computed)  # type: ignore[arg-type]
        except _Failed as failure:
            # A node damaged before the failing entry is the earlier fault.
            _check_nodes(session, start, computed)
            raise failure from None
        _check_nodes(session, start, computed)


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

"""Reading the stored Merkle tree: perfect-subtree nodes, log size, and proofs in one query each.

The merkle functions ask for nodes one at a time, but which nodes they ask for depends only on
the sizes and indexes involved, never on hash values. So each computation runs twice: once
against a planner that records the nodes it needs, then against those nodes fetched in a
single query. A proof over a million entries is one round trip, not forty.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TypeVar, cast

from sqlalchemy import Connection, Table, func, select, text, tuple_
from sqlalchemy.orm import Session

from services.ledger.merkle import HASH_SIZE, NodeReader, consistency_proof, inclusion_proof, range_hash
from shared.models import LedgerEntry, LedgerNode

T = TypeVar("T")
NodeKey = tuple[int, int]  # (level, index)

# Key of the PostgreSQL advisory lock that serialises appends (any constant; "AURA" in ASCII).
APPEND_LOCK_KEY = 0x41555241
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def lock_for_append(session: Session) -> None:
    """Serialise appends: an advisory lock on PostgreSQL; SQLite's BEGIN IMMEDIATE already does."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK, {"key": APPEND_LOCK_KEY})


class MissingNode(LookupError):
    """A node the tree needs is not stored: the log's node table is damaged."""


def node_key(start: int, end: int) -> NodeKey:
    """The (level, index) of the perfect subtree over leaves [start, end)."""
    level = (end - start).bit_length() - 1
    return level, start >> level


class _Planner:
    """Records the nodes a computation reads and answers with placeholders."""

    def __init__(self) -> None:
        self.wanted: set[NodeKey] = set()

    def subtree_hash(self, start: int, end: int) -> bytes:
        """Note the node as needed; answer with zeros."""
        self.wanted.add(node_key(start, end))
        return bytes(HASH_SIZE)


class _Fetched:
    """Answers from nodes fetched beforehand."""

    def __init__(self, nodes: dict[NodeKey, bytes]) -> None:
        self.nodes = nodes

    def subtree_hash(self, start: int, end: int) -> bytes:
        """The fetched hash of the node, or MissingNode."""
        key = node_key(start, end)
        if key not in self.nodes:
            raise MissingNode(f"stored Merkle node (level {key[0]}, index {key[1]}) over entries "
                              f"[{start}, {end}) is missing")
        return self.nodes[key]


def fetch_nodes(db: Session | Connection, keys: Collection[NodeKey]) -> dict[NodeKey, bytes]:
    """The stored hashes of the given (level, index) nodes that exist, in one query."""
    if not keys:
        return {}
    nodes = cast(Table, LedgerNode.__table__)  # Core, not ORM: this runs on appends and every proof
    connection = db.connection() if isinstance(db, Session) else db
    rows = connection.execute(select(nodes.c.level, nodes.c.index, nodes.c.hash)
                              .where(tuple_(nodes.c.level, nodes.c.index).in_(list(keys))))
    return {(level, index): bytes(h) for level, index, h in rows}


def with_stored_nodes(session: Session, compute: Callable[[NodeReader], T]) -> T:
    """Run a tree computation against the stored nodes, fetching all it needs in one query."""
    planner = _Planner()
    compute(planner)
    return compute(_Fetched(fetch_nodes(session, planner.wanted)))


def log_size(session: Session) -> int:
    """The number of entries in the log (one past the highest index)."""
    last = session.scalar(select(func.max(LedgerEntry.seq)))
    return 0 if last is None else last + 1


def root_at(session: Session, size: int) -> bytes:
    """The Merkle tree hash of the first `size` entries, from stored nodes."""
    return with_stored_nodes(session, lambda reader: range_hash(0, size, reader))


def inclusion(session: Session, index: int, size: int) -> list[bytes]:
    """The RFC 9162 inclusion proof of entry `index` in the tree of the first `size` entries."""
    return with_stored_nodes(session, lambda reader: inclusion_proof(index, size, reader))


def consistency(session: Session, old_size: int, new_size: int) -> list[bytes]:
    """The RFC 9162 consistency proof from the tree of size `old_size` to that of `new_size`."""
    return with_stored_nodes(session, lambda reader: consistency_proof(old_size, new_size, reader))

"""Recomputing a log from its entries alone: leaf hashes, hash chain, perfect nodes and roots.

Pure code, O(log n) memory: only the roots of the perfect subtrees that make up the tree so far
(its "frontier") are kept, so a verifier can stream a log of any length.
"""

from __future__ import annotations

from services.ledger.entry import ZERO_HASH, chain_hash
from services.ledger.merkle import EMPTY_ROOT, StoredNode, leaf_hash, node_hash


class Replay:
    """A log rebuilt entry by entry, as a verifier sees it."""

    def __init__(self) -> None:
        """Start from the empty log."""
        self.size = 0
        self.chain = ZERO_HASH
        # Roots of the perfect subtrees covering [0, size), largest (leftmost) first: one per
        # set bit of `size`.
        self._frontier: list[bytes] = []

    def append(self, entry: bytes) -> tuple[bytes, bytes, list[StoredNode]]:
        """Add an entry; return its leaf hash, its chain hash and the tree nodes it completes."""
        leaf = leaf_hash(entry)
        self.chain = chain_hash(self.chain, leaf)
        return leaf, self.chain, self.append_leaf(leaf)

    def append_leaf(self, leaf: bytes) -> list[StoredNode]:
        """Add a leaf hash; return the perfect nodes it completes, level 0 first."""
        index, level, current = self.size, 0, leaf
        nodes = [StoredNode(0, index, leaf)]
        # Each trailing one bit of the index is a finished left sibling waiting on the frontier.
        while index & 1:
            current = node_hash(self._frontier.pop(), current)
            level, index = level + 1, index >> 1
            nodes.append(StoredNode(level, index, current))
        self._frontier.append(current)
        self.size += 1
        return nodes

    def root(self) -> bytes:
        """The RFC 9162 Merkle tree hash of everything appended so far."""
        if not self._frontier:
            return EMPTY_ROOT
        current = self._frontier[-1]
        for left in reversed(self._frontier[:-1]):
            current = node_hash(left, current)
        return current

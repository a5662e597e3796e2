"""RFC 9162 section 2.1 Merkle tree hashing, proofs and proof verification.

Pure functions, no I/O. Proofs are generated through a `NodeReader`, which only has to return
hashes of *perfect* subtrees: ranges ``[i * 2**k, (i + 1) * 2**k)`` of leaves. A database can
store exactly those nodes as ``ledger_nodes(level, index, hash)`` (node ``(k, i)`` covers leaves
``[i * 2**k, (i + 1) * 2**k)``, level 0 being the leaf hashes), filled on append with
`perfect_nodes_to_store`, and every proof then costs O(log n) node reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) per RFC 9162 section 2.1.1


class NodeReader(Protocol):
    """Source of perfect-subtree hashes for proof generation."""

    def subtree_hash(self, start: int, end: int) -> bytes:
        """Return the hash of leaves [start, end); end - start is a power of two dividing start."""
        ...


@dataclass(frozen=True, slots=True)
class StoredNode:
    """One perfect-subtree node: covers leaves [index * 2**level, (index + 1) * 2**level)."""

    level: int
    index: int
    hash: bytes


def leaf_hash(entry: bytes) -> bytes:
    """Return the RFC 9162 leaf hash SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """Return the largest power of two strictly less than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _is_perfect(start: int, end: int) -> bool:
    size = end - start
    return start >= 0 and size > 0 and size & (size - 1) == 0 and start % size == 0


def root(leaves: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash MTH of a list of leaf hashes (RFC 9162 section 2.1.1)."""
    # Deliberately computed without any NodeReader, so tests can check the reader-based code
    # against the definition.
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def range_hash(start: int, end: int, reader: NodeReader) -> bytes:
    """Return MTH of leaves [start, end), composed from perfect subtrees read from `reader`."""
    if start < 0 or end < start:
        raise ValueError(f"invalid leaf range [{start}, {end})")
    if start == end:
        return EMPTY_ROOT
    if _is_perfect(start, end):
        return reader.subtree_hash(start, end)
    # For the ranges a proof asks for, `start` is aligned on k, so the left half is one perfect
    # read and only the right half recurses: O(log n) reads in all.
    k = _split(end - start)
    return node_hash(range_hash(start, start + k, reader), range_hash(start + k, end, reader))


def inclusion_proof(index: int, size: int, reader: NodeReader) -> list[bytes]:
    """Return the audit path PATH(index, D[size]) of RFC 9162 section 2.1.3.1."""
    if size <= 0:
        raise ValueError(f"no inclusion proof exists in a tree of size {size}")
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    return _path(index, 0, size, reader)


def _path(index: int, start: int, end: int, reader: NodeReader) -> list[bytes]:
    if end - start == 1:
        return []
    mid = start + _split(end - start)
    if index < mid:
        return [*_path(index, start, mid, reader), range_hash(mid, end, reader)]
    return [*_path(index, mid, end, reader), reader.subtree_hash(start, mid)]


def consistency_proof(old_size: int, new_size: int, reader: NodeReader) -> list[bytes]:
    """Return PROOF(old_size, D[new_size]) of RFC 9162 section 2.1.4.1."""
    if old_size < 0 or new_size < old_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    # RFC 9162 defines proofs for 0 < old_size < new_size; the empty tree and an unchanged tree
    # need no proof, so both get an empty one. Those read no node, so unlike every other request
    # they are not refused by the reader when past the end of the log: callers check sizes.
    if old_size in (0, new_size):
        return []
    return _subproof(old_size, 0, new_size, True, reader)


def _subproof(old_size: int, start: int, end: int, whole: bool, reader: NodeReader) -> list[bytes]:
    # `whole` is the RFC's b: the old tree is exactly [start, end), so the verifier knows it.
    if old_size == end:
        return [] if whole else [range_hash(start, end, reader)]
    mid = start + _split(end - start)
    if old_size <= mid:
        return [*_subproof(old_size, start, mid, whole, reader), range_hash(mid, end, reader)]
    return [*_subproof(old_size, mid, end, False, reader), reader.subtree_hash(start, mid)]


def _well_formed(*hashes: object) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes) -> bool:
    """Check an inclusion proof exactly as RFC 9162 section 2.1.3.2 specifies."""
    if not 0 <= index < size or not _well_formed(leaf_hash, root, *proof):
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """Check a consistency proof exactly as RFC 9162 section 2.1.4.2 specifies."""
    if not 0 <= old_size <= new_size or not _well_formed(old_root, new_root, *proof):
        return False
    # Outside the RFC's 0 < old_size < new_size, mirror consistency_proof: an empty proof, and
    # the old root must be the empty-tree hash or equal the new root respectively.
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == old_root and sr == new_root and sn == 0


def perfect_nodes_to_store(leaf_index: int, leaf_hash: bytes, get: Callable[[int, int], bytes]) -> list[StoredNode]:
    """Return the nodes completed by appending leaf `leaf_index`, level 0 first.

    `get(level, index)` must return an already stored node; it is called once per level the
    new leaf completes (the number of trailing one bits of `leaf_index`).
    """
    if leaf_index < 0:
        raise ValueError(f"invalid leaf index {leaf_index}")
    nodes = [StoredNode(0, leaf_index, leaf_hash)]
    level, index, current = 0, leaf_index, leaf_hash
    # A node that is a right child completes its parent, whose left sibling is already stored.
    while index & 1:
        current = node_hash(get(level, index - 1), current)
        level, index = level + 1, index >> 1
        nodes.append(StoredNode(level, index, current))
    return nodes


class MemoryTree:
    """An in-memory log holding every perfect-subtree node, for tests and the offline verifier."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        """Build a tree from leaf hashes, in order."""
        self._levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        """Return the number of leaves."""
        return len(self._levels[0])

    def append(self, leaf_hash: bytes) -> int:
        """Append a leaf hash and return its index."""
        if not _well_formed(leaf_hash):
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes")
        index = self.size
        for node in perfect_nodes_to_store(index, leaf_hash, self._get):
            if node.level == len(self._levels):
                self._levels.append([])
            self._levels[node.level].append(node.hash)
        return index

    def _get(self, level: int, index: int) -> bytes:
        return self._levels[level][index]

    def subtree_hash(self, start: int, end: int) -> bytes:
        """Return the stored hash of the perfect subtree over leaves [start, end)."""
        if not _is_perfect(start, end) or end > self.size:
            raise ValueError(f"[{start}, {end}) is not a complete subtree of a size {self.size} tree")
        level = (end - start).bit_length() - 1
        return self._levels[level][start >> level]

    def root(self, size: int | None = None) -> bytes:
        """Return the root hash of the first `size` leaves (default: all of them)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} is outside a tree of size {self.size}")
        return range_hash(0, size, self)

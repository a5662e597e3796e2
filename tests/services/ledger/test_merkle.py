"""Tests for the RFC 9162 Merkle tree: known answers, then properties over random trees."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    StoredNode,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    perfect_nodes_to_store,
    range_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# Known answers: the classic 8-leaf RFC 6962 test tree. Leaf inputs, every perfect node (by level,
# then index) and the root of every prefix are copied from transparency-dev/merkle,
# testonly/constants.go (LeafInputs, NodeHashes, RootHashes); the proofs from
# transparency-dev/merkle, proof/verify_test.go (inclusionProofs, consistencyProofs).
LEAF_INPUTS = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
NODES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",  # a
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",  # b
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",  # c
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",  # d
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",  # e
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",  # f
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",  # j (RFC 9162 2.1.5)
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",  # g
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",  # h
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",  # i
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",  # k
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# RFC 9162 section 2.1.5 names the 7-leaf tree's right half l = MTH(D[4:7]) = HASH(i || j); its
# value is not listed in constants.go, so the test below checks it against the published root 7.
L_HEX = "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"

# (index, size, proof) from verify_test.go (which counts leaves from 1), plus PATH(0, D[7]) =
# [b, h, l] from the RFC 9162 section 2.1.5 example.
INCLUSION_KATS = [
    (0, 8, [NODES[0][1], NODES[1][1], NODES[2][1]]),
    (5, 8, [NODES[0][4], NODES[1][3], NODES[2][0]]),
    (2, 3, [NODES[1][0]]),
    (1, 5, [NODES[0][0], NODES[1][1], NODES[0][4]]),
    (0, 7, [NODES[0][1], NODES[1][1], L_HEX]),
]
# (old_size, new_size, proof) from verify_test.go, plus PROOF(3, D[7]) = [c, d, g, l] from the
# RFC 9162 section 2.1.5 example.
CONSISTENCY_KATS = [
    (1, 8, [NODES[0][1], NODES[1][1], NODES[2][1]]),
    (6, 8, [NODES[1][2], NODES[1][3], NODES[2][0]]),
    (2, 5, [NODES[1][1], NODES[0][4]]),
    (6, 7, [NODES[1][2], NODES[0][6], NODES[2][0]]),
    (3, 7, [NODES[0][2], NODES[0][3], NODES[1][0], L_HEX]),
]


def unhex(hashes: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hashes]


def kat_tree() -> MemoryTree:
    return MemoryTree(leaf_hash(entry) for entry in LEAF_INPUTS)


def test_leaf_hashes_match_reference_vectors() -> None:
    assert [leaf_hash(entry) for entry in LEAF_INPUTS] == unhex(NODES[0])


def test_root_of_every_prefix_matches_reference_vectors() -> None:
    leaves = unhex(NODES[0])
    tree = kat_tree()
    for size, expected in enumerate(unhex(ROOTS)):
        assert root(leaves[:size]) == expected
        assert tree.root(size) == expected


def test_empty_tree_root_is_hash_of_empty_string() -> None:
    assert root([]) == EMPTY_ROOT == bytes.fromhex(ROOTS[0])


def test_memory_tree_stores_every_perfect_node_of_reference_tree() -> None:
    tree = kat_tree()
    for level, hashes in enumerate(NODES):
        width = 1 << level
        for index, expected in enumerate(unhex(hashes)):
            assert tree.subtree_hash(index * width, (index + 1) * width) == expected


def test_rfc_9162_node_l_composes_published_root_of_seven() -> None:
    i, j, k = (bytes.fromhex(h) for h in (NODES[1][2], NODES[0][6], NODES[2][0]))
    assert node_hash(i, j) == bytes.fromhex(L_HEX)
    assert node_hash(k, bytes.fromhex(L_HEX)) == bytes.fromhex(ROOTS[7])


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_KATS)
def test_inclusion_proof_matches_reference_vector(index: int, size: int, proof: list[str]) -> None:
    tree = kat_tree()
    assert inclusion_proof(index, size, tree) == unhex(proof)
    assert verify_inclusion(index, size, tree.subtree_hash(index, index + 1), unhex(proof), tree.root(size))


@pytest.mark.parametrize(("old_size", "new_size", "proof"), CONSISTENCY_KATS)
def test_consistency_proof_matches_reference_vector(old_size: int, new_size: int, proof: list[str]) -> None:
    tree = kat_tree()
    assert consistency_proof(old_size, new_size, tree) == unhex(proof)
    assert verify_consistency(old_size, new_size, tree.root(old_size), tree.root(new_size), unhex(proof))


def test_appending_eighth_leaf_completes_one_node_per_level() -> None:
    tree = MemoryTree(unhex(NODES[0][:7]))
    reads: list[tuple[int, int]] = []

    def get(level: int, index: int) -> bytes:
        reads.append((level, index))
        return tree.subtree_hash(index << level, (index + 1) << level)

    nodes = perfect_nodes_to_store(7, bytes.fromhex(NODES[0][7]), get)

    assert nodes == [StoredNode(level, len(NODES[level]) - 1, bytes.fromhex(NODES[level][-1])) for level in range(4)]
    assert reads == [(0, 6), (1, 2), (2, 0)]


def test_appending_even_leaf_completes_only_the_leaf() -> None:
    assert perfect_nodes_to_store(6, b"\x11" * 32, lambda level, index: pytest.fail("no read expected")) == [
        StoredNode(0, 6, b"\x11" * 32)
    ]


def test_inclusion_proof_binds_tree_size_only_through_root() -> None:
    # PATH(0, D[3]) and PATH(0, D[4]) have the same shape, so a proof checked against the wrong
    # (size, root) pairing can pass: callers must take size and root together from one checkpoint.
    tree = kat_tree()
    proof = inclusion_proof(0, 3, tree)
    leaf = tree.subtree_hash(0, 1)
    assert verify_inclusion(0, 4, leaf, proof, tree.root(3))
    assert not verify_inclusion(0, 4, leaf, proof, tree.root(4))


# Properties over random trees. The reference PATH and PROOF below transcribe the RFC 9162
# definitions over a plain list of leaf hashes, independently of the NodeReader code.


def reference_path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*reference_path(m, leaves[:k]), root(leaves[k:])]
    return [*reference_path(m - k, leaves[k:]), root(leaves[:k])]


def reference_subproof(m: int, leaves: Sequence[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [root(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*reference_subproof(m, leaves[:k], whole), root(leaves[k:])]
    return [*reference_subproof(m - k, leaves[k:], False), root(leaves[:k])]


MAX_SIZE = 300


@functools.cache
def big_tree() -> MemoryTree:
    return MemoryTree(leaf_hash(i.to_bytes(4, "big")) for i in range(MAX_SIZE))


@functools.cache
def leaves_of(size: int) -> tuple[bytes, ...]:
    return tuple(big_tree().subtree_hash(i, i + 1) for i in range(size))


class CountingReader:
    def __init__(self, tree: MemoryTree) -> None:
        self.tree = tree
        self.reads = 0

    def subtree_hash(self, start: int, end: int) -> bytes:
        self.reads += 1
        return self.tree.subtree_hash(start, end)


@st.composite
def tree_positions(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, MAX_SIZE))
    return draw(st.integers(0, size - 1)), size


@st.composite
def size_pairs(draw: st.DrawFn) -> tuple[int, int]:
    new_size = draw(st.integers(2, MAX_SIZE))
    return draw(st.integers(1, new_size - 1)), new_size


def mutations(proof: list[bytes], data: st.DataObject) -> list[list[bytes]]:
    """Return truncated, extended, reordered and bit-flipped variants of a proof."""
    junk = [b"\x00" * 32, *proof[:1], *proof[-1:]]
    variants = [[*proof, j] for j in junk] + [[j, *proof] for j in junk]
    if proof:
        variants += [proof[:-1], proof[1:]]
        i = data.draw(st.integers(0, len(proof) - 1))
        bit = data.draw(st.integers(0, 255))
        flipped = bytearray(proof[i])
        flipped[bit // 8] ^= 1 << (bit % 8)
        variants.append([*proof[:i], bytes(flipped), *proof[i + 1 :]])
        variants.append([*proof[:i], proof[i][:31], *proof[i + 1 :]])
    if len(set(proof)) > 1:
        i, j = data.draw(st.lists(st.integers(0, len(proof) - 1), min_size=2, max_size=2, unique=True))
        swapped = list(proof)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        if swapped != proof:
            variants.append(swapped)
    return variants


@given(tree_positions())
def test_inclusion_proof_equals_rfc_definition_and_verifies(position: tuple[int, int]) -> None:
    index, size = position
    tree, leaves = big_tree(), leaves_of(size)
    proof = inclusion_proof(index, size, tree)
    assert proof == reference_path(index, leaves)
    assert verify_inclusion(index, size, leaves[index], proof, root(leaves))


@given(size_pairs())
def test_consistency_proof_equals_rfc_definition_and_verifies(sizes: tuple[int, int]) -> None:
    old_size, new_size = sizes
    tree = big_tree()
    proof = consistency_proof(old_size, new_size, tree)
    assert proof == reference_subproof(old_size, leaves_of(new_size), True)
    assert verify_consistency(old_size, new_size, tree.root(old_size), tree.root(new_size), proof)


@given(tree_positions(), st.data())
def test_tampered_inclusion_proof_is_rejected(position: tuple[int, int], data: st.DataObject) -> None:
    index, size = position
    tree = big_tree()
    proof, leaf, good_root = (
        inclusion_proof(index, size, tree),
        leaves_of(size)[index],
        tree.root(size),
    )
    for variant in mutations(proof, data):
        assert not verify_inclusion(index, size, leaf, variant, good_root)
    other = data.draw(st.integers(0, MAX_SIZE))
    if other != index:
        assert not verify_inclusion(other, size, leaf, proof, good_root)
    other_size = data.draw(st.integers(index + 1, MAX_SIZE))
    if other_size != size:
        assert not verify_inclusion(index, other_size, leaf, proof, tree.root(other_size))
    assert not verify_inclusion(index, size, leaf, proof, tree.root(size - 1))
    # transparency-dev/merkle's verify_test.go probes: the right root paired with a wrong index
    # or with a doubled or halved size.
    for wrong_index, wrong_size in [(index - 1, size), (index + 1, size), (index ^ 2, size)]:
        assert not verify_inclusion(wrong_index, wrong_size, leaf, proof, good_root)
    for wrong_size in (size * 2, size // 2):
        assert not verify_inclusion(index, wrong_size, leaf, proof, good_root)
    assert not verify_inclusion(index, size, leaf_hash(b"forged"), proof, good_root)


@given(size_pairs(), st.data())
def test_tampered_consistency_proof_is_rejected(sizes: tuple[int, int], data: st.DataObject) -> None:
    old_size, new_size = sizes
    tree = big_tree()
    old_root, new_root = tree.root(old_size), tree.root(new_size)
    proof = consistency_proof(old_size, new_size, tree)
    for variant in mutations(proof, data):
        assert not verify_consistency(old_size, new_size, old_root, new_root, variant)
    other_old = data.draw(st.integers(0, new_size))
    if other_old != old_size:
        assert not verify_consistency(other_old, new_size, tree.root(other_old), new_root, proof)
    other_new = data.draw(st.integers(old_size, MAX_SIZE))
    if other_new != new_size:
        assert not verify_consistency(old_size, other_new, old_root, tree.root(other_new), proof)
    # transparency-dev/merkle's verify_test.go probes: the right roots with a wrong size.
    for wrong_old, wrong_new in [
        (old_size - 1, new_size),
        (old_size + 1, new_size),
        (old_size ^ 2, new_size),
        (old_size, new_size * 2),
        (old_size, new_size // 2),
    ]:
        assert not verify_consistency(wrong_old, wrong_new, old_root, new_root, proof)
    assert not verify_consistency(old_size, new_size, new_root, new_root, proof)
    assert not verify_consistency(old_size, new_size, old_root, old_root, proof)
    assert not verify_consistency(old_size, new_size, new_root, old_root, proof)


@given(tree_positions(), size_pairs())
def test_proofs_cost_logarithmic_reads(position: tuple[int, int], sizes: tuple[int, int]) -> None:
    index, size = position
    reader = CountingReader(big_tree())
    inclusion_proof(index, size, reader)
    assert reader.reads <= 2 * size.bit_length()
    reader.reads = 0
    consistency_proof(*sizes, reader)
    assert reader.reads <= 2 * sizes[1].bit_length()


def test_trivial_consistency_needs_empty_proof_and_matching_roots() -> None:
    tree = kat_tree()
    r3, r5 = tree.root(3), tree.root(5)
    assert consistency_proof(0, 5, tree) == [] == consistency_proof(5, 5, tree)
    assert verify_consistency(0, 5, EMPTY_ROOT, r5, [])
    assert verify_consistency(5, 5, r5, r5, [])
    assert not verify_consistency(0, 5, r3, r5, [])
    assert not verify_consistency(5, 5, r3, r5, [])
    assert not verify_consistency(5, 5, r5, r5, [r5])
    assert not verify_consistency(3, 5, r3, r5, [])
    assert not verify_consistency(5, 3, r5, r3, [])


def test_single_leaf_tree_has_empty_inclusion_proof() -> None:
    leaf = leaf_hash(b"data")
    assert inclusion_proof(0, 1, MemoryTree([leaf])) == []
    assert verify_inclusion(0, 1, leaf, [], leaf)
    assert not verify_inclusion(0, 1, leaf, [], EMPTY_ROOT)


@pytest.mark.parametrize(
    "proof",
    [[b"\x00" * 31], [b"\x00" * 33], ["not bytes"], [None], b"\x00" * 32],
    ids=["short", "long", "str", "none", "bare-bytes"],
)
def test_malformed_proof_is_rejected_without_raising(proof: object) -> None:
    tree = kat_tree()
    assert not verify_inclusion(0, 2, tree.subtree_hash(0, 1), proof, tree.root(2))  # type: ignore[arg-type]
    assert not verify_consistency(1, 2, tree.root(1), tree.root(2), proof)  # type: ignore[arg-type]


@pytest.mark.parametrize(("index", "size"), [(-1, 5), (5, 5), (6, 5), (0, 0), (0, -1)])
def test_inclusion_proof_out_of_range_raises(index: int, size: int) -> None:
    with pytest.raises(ValueError, match=r"outside|no inclusion proof"):
        inclusion_proof(index, size, kat_tree())


@pytest.mark.parametrize(("old_size", "new_size"), [(-1, 5), (6, 5), (1, 0)])
def test_consistency_proof_out_of_range_raises(old_size: int, new_size: int) -> None:
    with pytest.raises(ValueError, match="no consistency proof"):
        consistency_proof(old_size, new_size, kat_tree())


@given(tree_positions(), st.integers(1, 20))
def test_proof_past_end_of_stored_tree_raises(position: tuple[int, int], extra: int) -> None:
    index, size = position
    tree = MemoryTree(leaves_of(size))
    with pytest.raises(ValueError, match="not a complete subtree"):
        inclusion_proof(index, size + extra, tree)
    with pytest.raises(ValueError, match="not a complete subtree"):
        consistency_proof(size, size + extra, tree)


@pytest.mark.parametrize(("start", "end"), [(0, 3), (1, 3), (2, 6), (0, 16), (-2, 0)])
def test_memory_tree_refuses_non_perfect_or_missing_subtrees(start: int, end: int) -> None:
    with pytest.raises(ValueError, match="not a complete subtree"):
        kat_tree().subtree_hash(start, end)


def test_range_hash_refuses_inverted_range() -> None:
    with pytest.raises(ValueError, match="invalid leaf range"):
        range_hash(5, 3, kat_tree())

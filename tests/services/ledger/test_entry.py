"""Canonical entry bytes and the hash chain."""

from __future__ import annotations

import hashlib

from services.ledger.entry import ZERO_HASH, chain_hash, leaf_hash


def test_leaf_hash_is_rfc9162_leaf_hash():
    assert leaf_hash(b"entry") == hashlib.sha256(b"\x00entry").digest()


def test_chain_links_each_leaf_to_the_previous_chain_hash():
    first = chain_hash(ZERO_HASH, leaf_hash(b"a"))
    second = chain_hash(first, leaf_hash(b"b"))
    assert second == hashlib.sha256(first + leaf_hash(b"b")).digest()
    assert chain_hash(ZERO_HASH, leaf_hash(b"b")) != second

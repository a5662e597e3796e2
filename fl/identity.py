"""Which AURA hospital a Flower node is, and how much weight its update may carry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class HospitalAccount:
    """A hospital as the strategy knows it: its AURA id, its API key, its registered partition size."""

    name: str
    key: str
    partition_size: int  # training rows registered for it: the most examples it can have trained on


class UnknownNode(Exception):
    """A reply whose sender cannot be mapped to exactly one registered hospital."""


class NodeDirectory:
    """Binds Flower node ids to AURA hospitals, refusing any node that contradicts an earlier binding.

    Flower node ids are assigned by the SuperLink, so the strategy cannot know them in advance.
    A node names its hospital in its first reply (a claim); from then on the node is that
    hospital for the whole run: a second node claiming the same hospital, or the node claiming
    another one later, is refused. With SuperNode authentication on, node ids are bound to the
    nodes' keys, which turns the claim into an identity; `pinned` takes known bindings outright.
    """

    def __init__(self, accounts: Mapping[str, HospitalAccount], pinned: Mapping[int, str] | None = None) -> None:
        self._accounts = dict(accounts)
        self._hospital_of: dict[int, str] = dict(pinned or {})
        self._node_of = {h: n for n, h in self._hospital_of.items()}

    def resolve(self, node_id: int, claimed: str | None) -> HospitalAccount:
        """The account of the hospital this node is; UnknownNode when that cannot be established."""
        bound = self._hospital_of.get(node_id)
        if bound is not None:
            if claimed is not None and claimed != bound:
                raise UnknownNode(f"node {node_id} is {bound} but now claims to be {claimed}")
            return self._accounts[bound]
        if claimed is None:
            raise UnknownNode(f"node {node_id} does not say which hospital it is")
        if claimed not in self._accounts:
            raise UnknownNode(f"node {node_id} claims to be {claimed!r}, which has no AURA account here")
        if claimed in self._node_of:
            raise UnknownNode(f"node {node_id} claims to be {claimed}, already node {self._node_of[claimed]}")
        self._hospital_of[node_id] = claimed
        self._node_of[claimed] = node_id
        return self._accounts[claimed]


def capped_examples(claimed: int | None, account: HospitalAccount) -> int:
    """The weight an update may carry: what the hospital claims, at most its registered partition size."""
    if claimed is None:
        return account.partition_size
    return max(0, min(claimed, account.partition_size))

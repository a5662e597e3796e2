"""The stored Merkle tree on PostgreSQL: nodes written on append, proofs read in one query."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.ledger.merkle import MemoryTree, verify_consistency, verify_inclusion
from services.ledger.store import consistency, inclusion, log_size, root_at
from shared.models import LedgerEntry, LedgerNode, Status, Submission
from tests.services.ledger.rows import add_verdicts, append_all


def _leaves(engine: sa.Engine) -> list[bytes]:
    with engine.connect() as conn:
        return [bytes(h) for h in conn.scalars(sa.select(LedgerEntry.leaf_hash).order_by(LedgerEntry.seq))]


def test_append_stores_exactly_the_perfect_nodes_of_the_tree(engine, log):
    append_all(engine, add_verdicts(engine, 37), log)

    tree = MemoryTree(_leaves(engine))
    with engine.connect() as conn:
        stored = {(lvl, i): bytes(h) for lvl, i, h in conn.execute(sa.select(LedgerNode.level, LedgerNode.index,
                                                                              LedgerNode.hash))}
    expected = {(lvl, i): tree.subtree_hash(i << lvl, (i + 1) << lvl)
                for lvl in range(6) for i in range(37 >> lvl)}
    assert stored == expected


def test_appends_number_entries_without_gaps_and_chain_them(engine, log):
    results = append_all(engine, add_verdicts(engine, 5), log)

    assert [r.index for r in results] == [0, 1, 2, 3, 4]
    assert all(r.created for r in results)


def test_appending_a_verdict_again_returns_its_entry_and_adds_nothing(engine, log):
    ids = add_verdicts(engine, 3)
    append_all(engine, ids, log)

    again = append_all(engine, [ids[1]], log)

    assert (again[0].index, again[0].created) == (1, False)
    with Session(engine) as session:
        assert log_size(session) == 3
        assert session.scalar(sa.select(sa.func.count()).select_from(LedgerNode)) == 3 + 1
        assert session.get(Submission, ids[1]).status == Status.RECORDED


def test_proofs_from_stored_nodes_verify_against_the_recomputed_roots(engine, log):
    append_all(engine, add_verdicts(engine, 21), log)
    tree = MemoryTree(_leaves(engine))

    with Session(engine) as session:
        for size in (1, 2, 7, 8, 13, 21):
            assert root_at(session, size) == tree.root(size)
            for index in range(size):
                proof = inclusion(session, index, size)
                assert verify_inclusion(index, size, tree.subtree_hash(index, index + 1), proof, tree.root(size))
        for old, new in ((1, 21), (7, 8), (8, 21), (13, 20)):
            assert verify_consistency(old, new, tree.root(old), tree.root(new), consistency(session, old, new))


def test_a_proof_over_the_stored_tree_costs_one_query(engine, log):
    append_all(engine, add_verdicts(engine, 45), log)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    with Session(engine) as session:
        inclusion(session, 17, 45)
        consistency(session, 13, 45)

    assert len(statements) == 2


def test_a_lone_writer_appends_without_reading_nodes(engine, log):
    ids = add_verdicts(engine, 9)
    append_all(engine, ids[:3], log)
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    append_all(engine, ids[3:], log)

    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT") and "ledger_nodes" in s]

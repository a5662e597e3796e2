"""What an attacker with superuser rights does to the ledger tables, triggers switched off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from services.ledger.replay import Replay
from shared.models import LedgerEntry, LedgerNode, utcnow


def as_superuser(engine: sa.Engine, sql: str, params: dict[str, Any] | None = None) -> None:
    """Run `sql` with every trigger off (replica mode), as a superuser can."""
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text(sql), params or {})


def rewrite_tail(engine: sa.Engine, start: int, forged: Callable[[int], bytes]) -> None:
    """Replace entries from `start` on with `forged(index)`, recomputing leaf, chain and nodes to match."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(LedgerEntry.seq, LedgerEntry.entry, LedgerEntry.submission_id)
                            .order_by(LedgerEntry.seq)).all()
    replay = Replay()
    for _, entry, _ in rows[:start]:
        replay.append(entry)
    new_rows, new_nodes = [], []
    for seq, _, submission_id in rows[start:]:
        leaf, chain, nodes = replay.append(forged(seq))
        new_rows.append({"seq": seq, "submission_id": submission_id, "entry": forged(seq), "leaf_hash": leaf,
                         "chain_hash": chain, "created_at": utcnow()})
        new_nodes += [{"level": n.level, "index": n.index, "hash": n.hash} for n in nodes]
    with engine.begin() as conn:
        conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        conn.execute(sa.text("DELETE FROM ledger_entries WHERE seq >= :start"), {"start": start})
        # Node (level, index) was completed by entry (index + 1) * 2**level - 1.
        conn.execute(sa.text("DELETE FROM ledger_nodes WHERE ((index + 1) << level) - 1 >= :start"), {"start": start})
        conn.execute(sa.insert(LedgerEntry), new_rows)
        conn.execute(sa.insert(LedgerNode), new_nodes)

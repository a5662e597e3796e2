"""A receipt per submission: its entry, an inclusion proof, and the signed checkpoint it is proved against."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.ledger.checkpoints import latest_checkpoint, publish_checkpoint
from services.ledger.keys import LogConfig, log_config
from services.ledger.store import inclusion
from services.ledger.verify_offline import RECEIPT_FORMAT, encode_hashes
from shared.models import LedgerEntry


def build_receipt(session: Session, submission_id: str, *, config: LogConfig | None = None) -> dict[str, Any] | None:
    """The submission's receipt (publishing a checkpoint first if none covers it); None if not recorded."""
    config = config or log_config()
    row = session.scalar(select(LedgerEntry).where(LedgerEntry.submission_id == submission_id))
    if row is None:
        return None
    checkpoint = latest_checkpoint(session)
    if checkpoint is None or checkpoint.size <= row.seq:
        checkpoint = publish_checkpoint(session, config=config)
        if checkpoint is None or checkpoint.size <= row.seq:  # cannot happen: the log holds the entry
            raise RuntimeError(f"no checkpoint covers entry {row.seq} after publishing")
    return {
        "format": RECEIPT_FORMAT,
        "submission_id": submission_id,
        "index": row.seq,
        "entry": row.entry.decode(),
        "leaf_hash": base64.b64encode(row.leaf_hash).decode(),
        "tree_size": checkpoint.size,
        "inclusion_proof": encode_hashes(inclusion(session, row.seq, checkpoint.size)),
        "checkpoint": checkpoint.note,
    }

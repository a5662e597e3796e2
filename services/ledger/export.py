"""`aura ledger export`: the log as plain files a hospital can recompute with `aura verify export`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.ledger.checkpoints import checkpoint_path
from services.ledger.entry import ZERO_HASH
from services.ledger.keys import LogConfig, log_config
from services.ledger.verify_offline import CHECKPOINTS_DIR, ENTRIES_FILE, EXPORT_FORMAT, MANIFEST_FILE
from shared.models import LedgerCheckpoint, LedgerEntry, utcnow


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote."""

    entries: int
    checkpoints: int
    checkpoint_size: int


def export_ledger(session: Session, folder: Path, *, config: LogConfig | None = None,
                  batch: int = 10_000) -> ExportSummary:
    """Write every checkpoint, then every entry (one canonical entry per line), then a manifest."""
    config = config or log_config()
    if (folder / ENTRIES_FILE).exists():
        raise FileExistsError(f"{folder} already holds an export")
    (folder / CHECKPOINTS_DIR).mkdir(parents=True, exist_ok=True)
    # Checkpoints first: the log only grows, so every entry they cover is still there when the
    # entries are read afterwards.
    checkpoints = session.execute(select(LedgerCheckpoint.size, LedgerCheckpoint.note)
                                  .order_by(LedgerCheckpoint.size)).all()
    for size, note in checkpoints:
        checkpoint_path(folder / CHECKPOINTS_DIR, size).write_text(note)
    size, head = 0, ZERO_HASH
    with (folder / ENTRIES_FILE).open("wb") as out:
        while rows := session.execute(select(LedgerEntry.seq, LedgerEntry.entry, LedgerEntry.chain_hash)
                                      .where(LedgerEntry.seq >= size).order_by(LedgerEntry.seq).limit(batch)).all():
            for seq, entry, chain in rows:
                if seq != size:
                    raise LookupError(f"entry {size} is missing from the log; run `aura ledger verify`")
                if b"\n" in entry:
                    raise ValueError(f"entry {seq} is not canonical (it contains a newline)")
                out.write(bytes(entry) + b"\n")
                size, head = size + 1, bytes(chain)
    covered = checkpoints[-1][0] if checkpoints else 0
    manifest = {"format": EXPORT_FORMAT, "origin": config.origin, "size": size, "checkpoint_size": covered,
                "chain_head": head.hex(), "exported_at": utcnow().isoformat(),
                "note": "informational only: verify with the log's public key obtained independently"}
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return ExportSummary(entries=size, checkpoints=len(checkpoints), checkpoint_size=covered)

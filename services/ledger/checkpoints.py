"""Signed checkpoints: published under the append lock, and only when consistent with the last one.

A checkpoint is a C2SP tlog-checkpoint note signed with the log's Ed25519 key. It is stored in
the `checkpoints` table (one per tree size) and, once the transaction has committed, written to
the checkpoint folder, which stands in for write-once storage outside the database.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from services.ledger.keys import LogConfig, log_config
from services.ledger.merkle import consistency_proof, range_hash, verify_consistency
from services.ledger.note import Checkpoint, NoteError, parse_checkpoint, sign_note, verify_note
from services.ledger.store import lock_for_append, log_size, with_stored_nodes
from shared.files import write_once
from shared.models import LedgerCheckpoint, utcnow

log = logging.getLogger(__name__)
_PENDING = "aura_ledger_pending_checkpoint_files"


class SigningRefused(RuntimeError):
    """The log will not sign: the stored tree contradicts a checkpoint it already signed."""


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    """The checkpoint of the largest tree signed so far."""
    return session.scalar(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size.desc()).limit(1))


def open_checkpoint(note: str | bytes, config: LogConfig) -> Checkpoint:
    """Verify a checkpoint note's signature by this log's key and origin, and parse it."""
    data = note.encode() if isinstance(note, str) else note
    return parse_checkpoint(verify_note(data, config.key_name, config.public_key), origin=config.origin)


def checkpoint_due(*, size: int, covered: int, covered_at: datetime | None, config: LogConfig,
                   now: datetime | None = None) -> bool:
    """Whether a log of `size` entries whose last checkpoint covers `covered` needs a new one."""
    if size <= covered:
        return False
    if size - covered >= config.every_entries:
        return True
    if covered_at is None:
        return False
    if covered_at.tzinfo is None:  # SQLite keeps no time zone; AURA stores UTC
        covered_at = covered_at.replace(tzinfo=UTC)
    return ((now or utcnow()) - covered_at).total_seconds() >= config.every_s


def publish_checkpoint(session: Session, *, config: LogConfig | None = None) -> LedgerCheckpoint | None:
    """Sign and store a checkpoint of the whole log if it grew; return the latest checkpoint."""
    lock_for_append(session)
    return publish_locked(session, config=config or log_config())


def publish_locked(session: Session, *, config: LogConfig, size: int | None = None) -> LedgerCheckpoint | None:
    """`publish_checkpoint` for a caller that already holds the append lock."""
    latest = latest_checkpoint(session)
    size = log_size(session) if size is None else size
    if size == 0 or (latest is not None and latest.size >= size):
        return latest
    old_size = 0 if latest is None else latest.size
    root, proof = with_stored_nodes(session, lambda reader: (
        range_hash(0, size, reader), consistency_proof(old_size, size, reader)))
    if latest is not None:
        _check_extends(latest, size, root, proof, config)
    note = sign_note(Checkpoint(config.origin, size, root).body(), config.key_name, config.private_key).decode()
    row = LedgerCheckpoint(size=size, root_hash=root, note=note, created_at=utcnow())
    session.add(row)
    session.flush()
    _write_after_commit(session, config.checkpoint_dir, size, note)
    return row


def _check_extends(latest: LedgerCheckpoint, size: int, root: bytes, proof: list[bytes], config: LogConfig) -> None:
    # The previous checkpoint is trusted only as far as its signature: its root comes from the
    # signed text, so a rewritten `root_hash` column cannot make a fork look consistent.
    try:
        previous = open_checkpoint(latest.note, config)
    except NoteError as exc:
        raise SigningRefused(f"checkpoint {latest.size} does not verify under this log's key and origin "
                             f"({exc}); refusing to sign") from exc
    if previous.size != latest.size or previous.root != latest.root_hash:
        raise SigningRefused(f"checkpoint row {latest.size} disagrees with its signed note; refusing to sign")
    if not verify_consistency(previous.size, size, previous.root, root, proof):
        raise SigningRefused(f"the stored tree of {size} entries is not an extension of signed checkpoint "
                             f"{previous.size}; refusing to sign a fork")


def checkpoint_path(folder: Path, size: int) -> Path:
    """Where the checkpoint of tree size `size` is written (names sort in size order)."""
    return folder / f"{size:012d}.note"


def write_checkpoint_file(folder: Path, size: int, note: str) -> bool:
    """Write a checkpoint file once; False if a different checkpoint of that size is already there."""
    path = checkpoint_path(folder, size)
    write_once(path, note.encode())
    if path.read_bytes() != note.encode():
        log.error("checkpoint file for size %d already holds a different checkpoint: the log forked", size)
        return False
    return True


def checkpoint_files(folder: Path) -> list[tuple[Path, str]]:
    """Every checkpoint file in `folder`, in size order, with its text."""
    if not folder.is_dir():
        return []
    return [(p, p.read_text()) for p in sorted(folder.glob("*.note"))]


def _write_after_commit(session: Session, folder: Path, size: int, note: str) -> None:
    # Only a committed checkpoint may leave the database: if this transaction rolled back, the
    # entries it signed would never exist, and a file of it would be a signed fork.
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        event.listen(session, "after_commit", _flush_pending)
        event.listen(session, "after_rollback", _drop_pending)
    pending.append((folder, size, note))


def _flush_pending(session: Session) -> None:
    for folder, size, note in session.info.pop(_PENDING, []):
        try:
            write_checkpoint_file(folder, size, note)
        except OSError:
            # The database copy is committed and the file can be rewritten from it (export).
            log.exception("could not write checkpoint %d to %s", size, folder)
    session.info[_PENDING] = []


def _drop_pending(session: Session) -> None:
    session.info[_PENDING] = []

"""Bulk-loading synthetic ledger entries with PostgreSQL binary COPY, for the ledger benchmark.

Appending a million entries one transaction at a time would take most of an hour on a 2-core
machine, so the verification and proof figures are measured on synthetic entries (same shape
and size as real v1 entries) loaded with COPY, with their chain hashes and Merkle nodes
computed by the same replay the verifier uses, continuing the log the real appends started.
"""

from __future__ import annotations

import hashlib
import io
import struct
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.ledger.replay import Replay
from shared.evidence import canonical_json
from shared.federations import ensure_federation

PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
SYNTHETIC_HOSPITAL = "bench-synthetic"
CHUNK = 50_000


def synthetic_entry(index: int, submission_id: str, now: str) -> bytes:
    """A v2-shaped entry: the same keys, hash fields, three reasons and timestamps as a real one."""
    digest = hashlib.sha256(submission_id.encode()).hexdigest()
    return canonical_json({
        "v": 2, "submission_id": submission_id, "hospital": SYNTHETIC_HOSPITAL, "task": "heart-mlp",
        "federation": "heart-mlp", "run": 1, "calibration": "AURA defaults (Fed-Heart-Disease, FLamby's recipe)",
        "round": index + 1, "file_sha256": digest, "tensor_sha256": digest[::-1], "evidence_sha256": digest[1:] + "0",
        "verdict": "rejected" if index % 9 == 0 else "accepted", "score": (index % 997) / 997, "threshold": 0.5,
        "reasons": [
            {"signal": "update_norm", "severity": 0.31, "text": f"update norm {1 + index % 13}.2x the round median"},
            {"signal": "golden_loss", "severity": 0.12, "text": "golden-set loss 0.48 vs global 0.51"},
            {"signal": "attribution_shift", "severity": 0.05, "text": "attribution shift on `oldpeak` 0.02"},
        ],
        "signature": None, "submitted_at": now, "decided_at": now,
    })


class _BinaryCopy:
    """Rows in PostgreSQL's binary COPY format."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()
        self.buffer.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0))

    def row(self, *fields: bytes) -> None:
        """Add a row of already encoded field values."""
        self.buffer.write(struct.pack("!h", len(fields)))
        for field in fields:
            self.buffer.write(struct.pack("!i", len(field)) + field)

    def done(self) -> io.BytesIO:
        """Close the data and return it, ready to read."""
        self.buffer.write(struct.pack("!h", -1))
        self.buffer.seek(0)
        return self.buffer


def _int4(value: int) -> bytes:
    return struct.pack("!i", value)


def _timestamptz(value: datetime) -> bytes:
    delta = value - PG_EPOCH
    return struct.pack("!q", (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)


def _copy(engine: sa.Engine, tables: Iterable[tuple[str, Sequence[str], io.BytesIO]]) -> None:
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        for table, columns, data in tables:
            cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT binary)", data)
        connection.commit()
    finally:
        connection.close()


def replay_stored(engine: sa.Engine) -> Replay:
    """A replay of the entries already in the log, to continue its chain and tree."""
    replay = Replay()
    with engine.connect() as conn:
        for (entry,) in conn.execute(sa.text("SELECT entry FROM ledger_entries ORDER BY seq")):
            replay.append(bytes(entry))
    return replay


def bulk_load(engine: sa.Engine, replay: Replay, size: int) -> None:
    """Grow the log to `size` entries (with submissions, chain hashes and nodes) in COPY chunks."""
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO hospitals (id, name, created_at) VALUES (:h, :h, now()) "
                             "ON CONFLICT DO NOTHING"), {"h": SYNTHETIC_HOSPITAL})
        with Session(conn) as session:
            ensure_federation(session, "heart-mlp", "heart-mlp")
    now = datetime.now(UTC)
    now_text, now_pg = now.isoformat(), _timestamptz(now)
    while replay.size < size:
        submissions, entries, nodes = _BinaryCopy(), _BinaryCopy(), _BinaryCopy()
        for index in range(replay.size, min(size, replay.size + CHUNK)):
            sid = str(uuid.UUID(int=index, version=4))
            entry = synthetic_entry(index, sid, now_text)
            leaf, chain, completed = replay.append(entry)
            digest = hashlib.sha256(sid.encode()).hexdigest().encode()
            submissions.row(sid.encode(), SYNTHETIC_HOSPITAL.encode(), b"heart-mlp", b"heart-mlp", _int4(1),
                            _int4(index + 1), digest, digest, _int4(4096), b"recorded", _int4(1), now_pg, now_pg)
            entries.row(_int4(index), sid.encode(), entry, leaf, chain, now_pg)
            for node in completed:
                nodes.row(_int4(node.level), _int4(node.index), node.hash)
        _copy(engine, [
            ("submissions", ("id", "hospital_id", "task", "federation", "run", "round", "file_sha256",
                             "tensor_sha256", "size_bytes", "status", "attempts", "created_at", "updated_at"),
             submissions.done()),
            ("ledger_entries", ("seq", "submission_id", "entry", "leaf_hash", "chain_hash", "created_at"),
             entries.done()),
            ("ledger_nodes", ("level", "index", "hash"), nodes.done()),
        ])

"""Two writer processes appending at once never fork the log or leave a gap."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.ledger.audit import verify
from services.ledger.keys import LogConfig
from services.ledger.note import signer_key
from shared.models import LedgerCheckpoint, LedgerEntry
from tests.services.ledger.rows import add_verdicts

ROOT = Path(__file__).resolve().parents[3]
PER_WRITER = 1000

# Each writer appends its own submissions through the real append function, one transaction
# each, publishing a checkpoint every 50 entries, with the same key as the other writer.
WRITER = """
import sys
from dataclasses import replace
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from services.ledger.keys import log_config
from services.ledger.service import append

engine = create_engine(sys.argv[1])
config = replace(log_config(), every_entries=50)
for sid in open(sys.argv[2]).read().split():
    with Session(engine) as session, session.begin():
        append(session, sid, config=config, own_transaction=True)
"""


def test_two_writer_processes_appending_1000_entries_each_build_one_log(ledger_db, engine, log: LogConfig,
                                                                        tmp_path):
    key_file = tmp_path / "ledger.key"
    key_file.write_text(signer_key(log.key_name, log.private_key))
    env = {"AURA_LEDGER_ORIGIN": log.origin, "AURA_LEDGER_KEY_FILE": str(key_file),
           "AURA_CHECKPOINT_DIR": str(log.checkpoint_dir), "PATH": "/usr/bin:/bin"}
    writers = []
    for name in ("a", "b"):
        ids = tmp_path / f"{name}.ids"
        ids.write_text("\n".join(add_verdicts(engine, PER_WRITER)))
        writers.append(subprocess.Popen([sys.executable, "-c", WRITER, ledger_db, str(ids)], cwd=ROOT, env=env,
                                        stderr=subprocess.PIPE))

    for writer in writers:
        assert writer.wait(300) == 0, writer.stderr.read().decode()[-2000:] if writer.stderr else ""

    with engine.connect() as conn:
        seqs = list(conn.scalars(sa.select(LedgerEntry.seq).order_by(LedgerEntry.seq)))
        writer_of = [json.loads(e)["hospital"] for e in conn.scalars(sa.select(LedgerEntry.entry)
                                                                       .order_by(LedgerEntry.seq))]
        checkpoints = list(conn.scalars(sa.select(LedgerCheckpoint.size).order_by(LedgerCheckpoint.size)))
    assert seqs == list(range(2 * PER_WRITER))
    assert sum(a != b for a, b in itertools.pairwise(writer_of)) > 10, "the writers never interleaved"
    assert checkpoints == list(range(50, 2 * PER_WRITER + 1, 50))
    with Session(engine) as session:
        report = verify(session, config=log)
    assert report.ok, report
    assert report.checkpoint_size == 2 * PER_WRITER

"""ledger entries (format 2) name the federation, the run and the calibration of the verdict

The ledger stage's one-call read (0007) also returns the submission's federation and run and
the decision's calibration, which entry format 2 encodes: a verified entry then says which
consortium's run it belongs to and which thresholds judged it, not only the task.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

DROP = "DROP FUNCTION aura_ledger_append_decision_state(bigint, varchar)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(DROP)
    # As 0007, with federation and run after the submission's fields and calibration after the decision's.
    op.execute("""
        CREATE FUNCTION aura_ledger_append_decision_state(lock_key bigint, for_submission varchar)
        RETURNS TABLE (last_seq integer, head bytea, existing integer, covered integer,
                       covered_at timestamptz,
                       found boolean, hospital_id varchar, task varchar, round integer,
                       file_sha256 varchar, tensor_sha256 varchar, signature text,
                       submitted_at timestamptz, federation varchar, run integer,
                       decided boolean, verdict varchar, score double precision,
                       threshold double precision, reasons jsonb, decided_at timestamptz,
                       evidence_sha256 varchar, calibration varchar)
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            RETURN QUERY SELECT
                s.last_seq, s.head, s.existing, s.covered, s.covered_at,
                u.id IS NOT NULL, u.hospital_id, u.task, u.round, u.file_sha256, u.tensor_sha256,
                u.signature, u.created_at, u.federation, u.run,
                d.submission_id IS NOT NULL, d.verdict, d.score, d.threshold, d.reasons,
                d.created_at, d.evidence_sha256, d.calibration
            FROM aura_ledger_append_state(lock_key, for_submission) s
            LEFT JOIN submissions u ON u.id = for_submission
            LEFT JOIN decisions d ON d.submission_id = for_submission;
        END
        $$
    """)


def _revision_0007() -> ModuleType:
    path = Path(__file__).with_name("0007_decision_evidence_digest.py")
    spec = importlib.util.spec_from_file_location("aura_migration_0007", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DROP)
        op.execute(_revision_0007().FUNCTION)  # 0007's function, exactly as 0007 made it

"""decisions keep the digest of their evidence; the ledger's append reads it instead of the evidence

The detector now computes the evidence digest when it decides (shared.evidence). The ledger
stage's one-call read (0004) therefore no longer needs the evaluation and fingerprint rows: the
new function returns the log state, the submission and the decision with its digest. A
decision without one (the sweeper's `error` verdicts, decisions made before this revision)
makes the ledger digest the evidence rows itself, as it did before.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# As created here; 0010 replaces it and restores it on downgrade.
FUNCTION = """
        CREATE FUNCTION aura_ledger_append_decision_state(lock_key bigint, for_submission varchar)
        RETURNS TABLE (last_seq integer, head bytea, existing integer, covered integer,
                       covered_at timestamptz,
                       found boolean, hospital_id varchar, task varchar, round integer,
                       file_sha256 varchar, tensor_sha256 varchar, signature text,
                       submitted_at timestamptz,
                       decided boolean, verdict varchar, score double precision,
                       threshold double precision, reasons jsonb, decided_at timestamptz,
                       evidence_sha256 varchar)
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            RETURN QUERY SELECT
                s.last_seq, s.head, s.existing, s.covered, s.covered_at,
                u.id IS NOT NULL, u.hospital_id, u.task, u.round, u.file_sha256, u.tensor_sha256,
                u.signature, u.created_at,
                d.submission_id IS NOT NULL, d.verdict, d.score, d.threshold, d.reasons,
                d.created_at, d.evidence_sha256
            FROM aura_ledger_append_state(lock_key, for_submission) s
            LEFT JOIN submissions u ON u.id = for_submission
            LEFT JOIN decisions d ON d.submission_id = for_submission;
        END
        $$
"""


def upgrade() -> None:
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence_sha256", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION aura_ledger_append_verdict_state(bigint, varchar)")
    # As 0004: the state (0003's function) is read after the lock is granted; the submission
    # and decision were committed before this stage was queued.
    op.execute(FUNCTION)


def _revision_0004() -> ModuleType:
    path = Path(__file__).with_name("0004_ledger_append_verdict_state.py")
    spec = importlib.util.spec_from_file_location("aura_migration_0004", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS aura_ledger_append_decision_state(bigint, varchar)")
        _revision_0004().upgrade()  # 0004's function, exactly as 0004 made it
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("evidence_sha256")

"""ledger append: one call takes the lock, reads the log state and the submission and verdict to record

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The ledger stage needs the log's state, the submission and its verdict rows before it can
    # write; one call returns all three, saving a round trip per append (the stage loads nothing
    # else). The state comes from 0003's function, whose queries take their snapshot after the
    # lock is granted (so a redelivered verdict sees the entry a concurrent copy just committed);
    # the submission and verdict rows were committed by earlier stages before this one was
    # queued, so the outer query's earlier snapshot sees them (the submission's status may have
    # moved on since, but it is not returned).
    op.execute("""
        CREATE FUNCTION aura_ledger_append_verdict_state(lock_key bigint, for_submission varchar)
        RETURNS TABLE (last_seq integer, head bytea, existing integer, covered integer,
                       covered_at timestamptz,
                       found boolean, hospital_id varchar, task varchar, round integer,
                       file_sha256 varchar, tensor_sha256 varchar, signature text,
                       submitted_at timestamptz,
                       decided boolean, verdict varchar, score double precision,
                       threshold double precision, reasons jsonb, features jsonb,
                       decided_at timestamptz,
                       evaluated boolean, update_metrics jsonb, global_metrics jsonb,
                       fingerprinted boolean, method varchar, attribution jsonb, reference jsonb)
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            RETURN QUERY SELECT
                s.last_seq, s.head, s.existing, s.covered, s.covered_at,
                u.id IS NOT NULL, u.hospital_id, u.task, u.round, u.file_sha256, u.tensor_sha256,
                u.signature, u.created_at,
                d.submission_id IS NOT NULL, d.verdict, d.score, d.threshold, d.reasons, d.features,
                d.created_at,
                e.submission_id IS NOT NULL, e.update_metrics, e.global_metrics,
                f.submission_id IS NOT NULL, f.method, f.attribution, f.reference
            FROM aura_ledger_append_state(lock_key, for_submission) s
            LEFT JOIN submissions u ON u.id = for_submission
            LEFT JOIN decisions d ON d.submission_id = for_submission
            LEFT JOIN evaluations e ON e.submission_id = for_submission
            LEFT JOIN fingerprints f ON f.submission_id = for_submission;
        END
        $$
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS aura_ledger_append_verdict_state(bigint, varchar)")

"""ledger merkle nodes and checkpoints; append-only ledger tables on PostgreSQL

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

LEDGER_TABLES = ("ledger_entries", "ledger_nodes", "checkpoints")


def upgrade() -> None:
    op.create_table(
        "checkpoints",
        sa.Column("size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("size"),
    )
    op.create_table(
        "ledger_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("index", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "index"),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    # The log is append-only in the database itself, not only in our code: any UPDATE, DELETE
    # or TRUNCATE raises, whoever sends it. Only a superuser or the tables' owner can switch the
    # triggers off (ALTER TABLE ... DISABLE TRIGGER, session_replication_role), and what they
    # change then shows up in verification against the signed checkpoints.
    op.execute("""
        CREATE FUNCTION aura_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
    """)
    for table in LEDGER_TABLES:
        op.execute(f"""
            CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION aura_ledger_append_only()
        """)
        op.execute(f"""
            CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION aura_ledger_append_only()
        """)
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM PUBLIC")
    # An append takes the advisory lock and then reads the log's state; one call does both. A
    # plain `SELECT lock, state` would read with a snapshot taken before the lock was granted;
    # a VOLATILE function's query takes a fresh one after.
    op.execute("""
        CREATE FUNCTION aura_ledger_append_state(lock_key bigint, for_submission varchar)
        RETURNS TABLE (last_seq integer, head bytea, existing integer, covered integer,
                       covered_at timestamptz)
        LANGUAGE plpgsql VOLATILE AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(lock_key);
            RETURN QUERY SELECT
                (SELECT e.seq FROM ledger_entries e ORDER BY e.seq DESC LIMIT 1),
                (SELECT e.chain_hash FROM ledger_entries e ORDER BY e.seq DESC LIMIT 1),
                (SELECT e.seq FROM ledger_entries e WHERE e.submission_id = for_submission),
                (SELECT c.size FROM checkpoints c ORDER BY c.size DESC LIMIT 1),
                (SELECT c.created_at FROM checkpoints c ORDER BY c.size DESC LIMIT 1);
        END
        $$
    """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in LEDGER_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS aura_ledger_append_only()")
        op.execute("DROP FUNCTION IF EXISTS aura_ledger_append_state(bigint, varchar)")
    op.drop_table("ledger_nodes")
    op.drop_table("checkpoints")

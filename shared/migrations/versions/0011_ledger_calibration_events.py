"""the ledger also records each calibration: an entry belongs to a verdict or to a calibration

A recalibration changes every verdict after it, so it is an audited event in the same verifiable
log as the verdicts: an entry now has a submission (a verdict) or a calibration, exactly one.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ONE_OWNER = "(submission_id IS NULL) <> (calibration_id IS NULL)"


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.alter_column("submission_id", existing_type=sa.String(length=36), nullable=True)
        batch_op.add_column(sa.Column("calibration_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_ledger_entries_calibration", "calibrations", ["calibration_id"], ["id"])
        batch_op.create_unique_constraint("uq_ledger_entries_calibration", ["calibration_id"])
        batch_op.create_check_constraint("ck_ledger_entries_one_owner", ONE_OWNER)


def downgrade() -> None:
    op.execute("DELETE FROM ledger_entries WHERE calibration_id IS NOT NULL")  # format 1-only logs cannot hold them
    with op.batch_alter_table("ledger_entries") as batch_op:
        batch_op.drop_constraint("ck_ledger_entries_one_owner", type_="check")
        batch_op.drop_constraint("uq_ledger_entries_calibration", type_="unique")
        batch_op.drop_constraint("fk_ledger_entries_calibration", type_="foreignkey")
        batch_op.drop_column("calibration_id")
        batch_op.alter_column("submission_id", existing_type=sa.String(length=36), nullable=False)

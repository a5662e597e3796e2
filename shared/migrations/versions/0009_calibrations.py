"""calibrations: each federation's detector thresholds, fitted from its honest updates, versioned

Each fit is a new version (never updated); a decision names the calibration it was judged with.
A run may declare its first rounds calibration rounds: the operator vouches for their updates.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "calibrations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("federation_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fitted", JSON, nullable=False),
        sa.Column("source", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["federation_id"], ["federations.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("federation_id", "version", name="uq_calibrations_federation_version"),
    )
    with op.batch_alter_table("decisions") as batch_op:
        batch_op.add_column(sa.Column("calibration", sa.String(length=120), nullable=True))
    with op.batch_alter_table("federation_runs") as batch_op:
        batch_op.add_column(sa.Column("calibration_rounds", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("federation_runs") as batch_op:
        batch_op.drop_column("calibration_rounds")
    with op.batch_alter_table("decisions") as batch_op:
        batch_op.drop_column("calibration")
    op.drop_table("calibrations")

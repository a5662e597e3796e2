"""refusals name the client address and aggregate repeats: one row per client, hospital and code a minute

Failed authentications used to write a row each, with no address: a flood of bad keys grew the
table without bound and could not be traced or limited. A repeat within a minute now adds to
the row's count.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("refused_uploads") as batch_op:
        batch_op.add_column(sa.Column("client", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("count", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("last_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_refused_uploads_client_last_at", ["client", "last_at"])


def downgrade() -> None:
    with op.batch_alter_table("refused_uploads") as batch_op:
        batch_op.drop_index("ix_refused_uploads_client_last_at")
        batch_op.drop_column("last_at")
        batch_op.drop_column("count")
        batch_op.drop_column("client")

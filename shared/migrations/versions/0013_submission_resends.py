"""submissions count the sweeper's re-sends apart from failed executions

`attempts` now counts stage executions that failed (a stage raised); a re-send by the sweeper is
counted in `resends`, so a broker outage (sends that fail, or messages nobody consumes) no longer
uses up attempts and turns queued submissions into `error` verdicts.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.add_column(sa.Column("resends", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch_op:
        batch_op.drop_column("resends")

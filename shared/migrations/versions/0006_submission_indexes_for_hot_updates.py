"""submissions: no index on the columns every stage changes, one for a round's updates

Each submission's row is updated by every stage (status; verdict at the detector). An update that
changes an indexed column writes a new entry into every index of the table; one that changes
none, on a page with room, stays in the page (a HOT update). So status and verdict lose their
indexes (the sweeper's `status != 'recorded'` cannot use one, and the dashboard pages by
created_at), the hospital index goes (the unique (hospital_id, task, round) index starts with
it), pages keep 30% free on PostgreSQL, and the stages' per-round reads (earlier peers of the
round, the accepted updates of a closed round) get an index on (task, round, created_at).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_submissions_status", table_name="submissions")
    op.drop_index("ix_submissions_verdict", table_name="submissions")
    op.drop_index("ix_submissions_hospital_id", table_name="submissions")
    op.create_index("ix_submissions_task_round", "submissions", ["task", "round", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE submissions SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE submissions RESET (fillfactor)")
    op.drop_index("ix_submissions_task_round", table_name="submissions")
    op.create_index("ix_submissions_hospital_id", "submissions", ["hospital_id"])
    op.create_index("ix_submissions_verdict", "submissions", ["verdict"])
    op.create_index("ix_submissions_status", "submissions", ["status"])

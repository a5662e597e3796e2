"""federations and their runs: the scope of a round, of its history and of a calibration

A federation (a consortium using one task, with its training recipe) runs one or more runs; each
run's rounds start at 1. Global models and submissions name their federation and run, and are
unique per (federation, run, round) instead of per (task, round). Existing rows become run 1 of
a federation named after their task (the default federation every task has).

Downgrade restores the per-task keys; it fails if two federations of one task hold the same round.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
# SQLite keeps the old per-task unique keys unnamed; a naming convention lets batch mode drop them.
SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
OLD_UNIQUE = {  # (PostgreSQL's generated name, the name the convention gives on SQLite)
    "global_models": ("global_models_task_round_key", "uq_global_models_task"),
    "submissions": ("submissions_hospital_id_task_round_key", "uq_submissions_hospital_id"),
}


def upgrade() -> None:
    op.create_table(
        "federations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("task", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("recipe", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "federation_runs",
        sa.Column("federation_id", sa.String(length=64), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["federation_id"], ["federations.id"]),
        sa.PrimaryKeyConstraint("federation_id", "run"),
    )
    op.execute("INSERT INTO federations (id, task, name, recipe, created_at) "
               "SELECT task, task, task, '{}', CURRENT_TIMESTAMP FROM "
               "(SELECT task FROM global_models UNION SELECT task FROM submissions) AS tasks")
    op.execute("INSERT INTO federation_runs (federation_id, run, created_at) "
               "SELECT id, 1, CURRENT_TIMESTAMP FROM federations")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in ("global_models", "submissions"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("federation", sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column("run", sa.Integer(), nullable=True))
        op.execute(f"UPDATE {table} SET federation = task, run = 1")
        with op.batch_alter_table(table, naming_convention=SQLITE_NAMES) as batch_op:
            batch_op.alter_column("federation", existing_type=sa.String(length=64), nullable=False)
            batch_op.alter_column("run", existing_type=sa.Integer(), nullable=False)
            batch_op.drop_constraint(OLD_UNIQUE[table][1 if sqlite else 0], type_="unique")
            batch_op.create_foreign_key(f"fk_{table}_federation_run", "federation_runs", ["federation", "run"],
                                        ["federation_id", "run"])
            if table == "global_models":
                batch_op.create_unique_constraint("uq_global_models_scope_round", ["federation", "run", "round"])
            else:
                batch_op.create_unique_constraint("uq_submissions_hospital_scope_round",
                                                  ["hospital_id", "federation", "run", "round"])
    op.drop_index("ix_submissions_task_round", table_name="submissions")
    op.create_index("ix_submissions_scope_round", "submissions", ["federation", "run", "round", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_submissions_scope_round", table_name="submissions")
    op.create_index("ix_submissions_task_round", "submissions", ["task", "round", "created_at"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, columns in (("global_models", ["task", "round"]), ("submissions", ["hospital_id", "task", "round"])):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint("uq_global_models_scope_round" if table == "global_models"
                                     else "uq_submissions_hospital_scope_round", type_="unique")
            batch_op.drop_constraint(f"fk_{table}_federation_run", type_="foreignkey")
            batch_op.drop_column("run")
            batch_op.drop_column("federation")
            batch_op.create_unique_constraint(OLD_UNIQUE[table][1 if sqlite else 0], columns)
    op.drop_table("federation_runs")
    op.drop_table("federations")

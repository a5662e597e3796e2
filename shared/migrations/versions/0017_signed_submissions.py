"""signed submissions: hospitals' Ed25519 public keys, used nonces, and a federation setting that requires signatures

`submissions.signature` now holds the verified signature record as canonical JSON (written only
after the signature checked out); before, any string a client sent was kept unverified. Every
such string is carried over as {"claimed": ..., "verified": false}, so no old claim (not even one
shaped like a record) ever reads as a verified signature. Ledger entries are stored as written:
those already in the log keep the bytes they have.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hospital_signing_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["hospital_id"], ["hospitals.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_id", name="uq_hospital_signing_keys_key_id"),
    )
    op.create_index("ix_hospital_signing_keys_hospital_id", "hospital_signing_keys", ["hospital_id"])
    op.create_table(
        "signature_nonces",
        sa.Column("hospital_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["hospital_id"], ["hospitals.id"]),
        sa.PrimaryKeyConstraint("hospital_id", "nonce"),
    )
    with op.batch_alter_table("federations") as batch_op:
        batch_op.add_column(sa.Column("require_signatures", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    claimed = ("json_build_object('claimed', signature, 'verified', false)::text"
               if op.get_bind().dialect.name == "postgresql"
               else "json_object('claimed', signature, 'verified', json('false'))")
    op.execute(f"UPDATE submissions SET signature = {claimed} WHERE signature IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("federations") as batch_op:
        batch_op.drop_column("require_signatures")
    op.drop_table("signature_nonces")
    op.drop_index("ix_hospital_signing_keys_hospital_id", table_name="hospital_signing_keys")
    op.drop_table("hospital_signing_keys")

"""PostgreSQL itself refuses to change or remove ledger rows: triggers and revoked privileges."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from services.ledger.checkpoints import publish_checkpoint
from tests.services.ledger.rows import add_verdicts, append_all

CHANGES = [
    "UPDATE ledger_entries SET entry = 'x' WHERE seq = 0",
    "DELETE FROM ledger_entries WHERE seq = 1",
    "TRUNCATE ledger_entries CASCADE",
    "UPDATE ledger_nodes SET hash = :zero WHERE level = 0 AND index = 0",
    "DELETE FROM ledger_nodes",
    "TRUNCATE ledger_nodes",
    "UPDATE checkpoints SET root_hash = :zero",
    "DELETE FROM checkpoints",
    "TRUNCATE checkpoints",
]


@pytest.mark.parametrize("statement", CHANGES)
def test_plain_update_delete_or_truncate_of_a_ledger_table_raises(engine, log, statement):
    append_all(engine, add_verdicts(engine, 3), log)
    with Session(engine) as session, session.begin():
        publish_checkpoint(session, config=log)

    with engine.begin() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(sa.text(statement), {"zero": bytes(32)})


def test_no_role_is_granted_update_delete_or_truncate_through_public(engine):
    with engine.connect() as conn:
        acls = conn.execute(sa.text(
            "SELECT relname, coalesce(relacl::text, '') FROM pg_class "
            "WHERE relname IN ('ledger_entries', 'ledger_nodes', 'checkpoints')")).all()

    assert len(acls) == 3
    # In an ACL entry "=arwdDxt/owner" the empty grantee is PUBLIC; w, d, D are UPDATE, DELETE, TRUNCATE.
    public = [entry for _, acl in acls for entry in acl.strip("{}").split(",") if entry.startswith("=")]
    assert not any(set(entry.split("/")[0]) & set("wdD") for entry in public)

"""The ledger stage's append: the entry it encodes, the submission it marks, and its round trips."""

from __future__ import annotations

from pathlib import Path

import psycopg2.extensions
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from services.ledger.append_sql import write_entry
from services.ledger.audit import verify
from services.ledger.merkle import StoredNode
from services.ledger.service import append, verdict_entry
from shared.db import get_engine, migrate
from shared.models import LedgerEntry, Status, Submission, utcnow
from tests.services.ledger.rows import add_evidence, add_verdicts, append_all


def _stored_entries(engine: sa.Engine) -> list[bytes]:
    with engine.connect() as conn:
        return [bytes(e) for e in conn.scalars(sa.select(LedgerEntry.entry).order_by(LedgerEntry.seq))]


def test_the_stage_stores_the_entry_the_orm_rows_encode_to(engine, log):
    ids = add_verdicts(engine, 4)
    add_evidence(engine, ids[:2])  # two with evaluation and fingerprint, two with the decision only

    append_all(engine, ids, log)

    with Session(engine) as session:
        expected = [verdict_entry(session, session.get_one(Submission, sid)) for sid in ids]
    assert _stored_entries(engine) == expected


def test_the_stage_marks_the_submission_recorded_without_a_second_update(engine, log):
    sid = add_verdicts(engine, 1)[0]

    with Session(engine, expire_on_commit=False) as session, session.begin():
        submission = session.get_one(Submission, sid)
        append(session, submission, config=log)
        assert submission not in session.dirty
    with engine.connect() as conn:
        row = conn.execute(sa.select(Submission.status, Submission.recorded_at, Submission.updated_at)
                           .where(Submission.id == sid)).one()
        entry_time = conn.scalar(sa.select(LedgerEntry.created_at))

    assert row == (Status.RECORDED, entry_time, entry_time)
    assert (submission.status, submission.recorded_at, submission.updated_at) == tuple(row)


def test_the_stage_sends_two_statements_after_the_submission_is_loaded(ledger_db, log):
    statements: list[str] = []

    class Counting(psycopg2.extensions.cursor):
        def execute(self, query, vars=None):
            statements.append(query)
            return super().execute(query, vars)

    engine = sa.create_engine(ledger_db, connect_args={"cursor_factory": Counting})
    ids = add_verdicts(engine, 3)
    append_all(engine, ids[:2], log)
    with Session(engine) as session, session.begin():
        submission = session.get_one(Submission, ids[2])
        statements.clear()
        append(session, submission, config=log)
    engine.dispose()

    assert len(statements) == 2, statements  # lock + state + verdict; entry + nodes + status


def test_a_database_error_on_the_append_path_is_raised_as_sqlalchemys(engine, log):
    sid = add_verdicts(engine, 1)[0]
    row = {"seq": 0, "submission_id": sid, "entry": b"{}", "leaf_hash": bytes(32), "chain_hash": bytes(32),
           "created_at": utcnow()}

    with engine.connect() as conn:
        write_entry(conn, row, [StoredNode(0, 0, bytes(32))])
        with pytest.raises(sa.exc.IntegrityError):  # the stage task retries on SQLAlchemy's errors
            write_entry(conn, row, [StoredNode(0, 0, bytes(32))])


def test_appends_on_sqlite_take_the_same_functions_and_verify(tmp_path: Path, log):
    url = f"sqlite:///{tmp_path / 'aura.db'}"
    migrate(url)
    engine = get_engine(url)
    ids = add_verdicts(engine, 6)
    add_evidence(engine, ids[:3])

    results = append_all(engine, ids + ids[:1], log)

    assert [(r.index, r.created) for r in results] == [(i, True) for i in range(6)] + [(0, False)]
    with Session(engine) as session:
        report = verify(session, config=log)
        statuses = {s.status for s in session.scalars(sa.select(Submission))}
        expected = [verdict_entry(session, session.get_one(Submission, sid)) for sid in ids]
    assert report.ok, report
    assert statuses == {Status.RECORDED}
    assert _stored_entries(engine) == expected

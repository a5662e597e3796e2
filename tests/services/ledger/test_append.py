"""The ledger stage's append: the entry it encodes, the submission it marks, and its round trips."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg2.extensions
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import shared.db
from services.ledger.append_sql import write_entry
from services.ledger.audit import verify
from services.ledger.keys import LogConfig
from services.ledger.merkle import StoredNode
from services.ledger.service import Appended, append, append_calibration, append_entry, verdict_entry
from shared.db import get_engine, migrate
from shared.evidence import evidence_digest
from shared.models import (
    Calibration,
    Decision,
    Evaluation,
    Fingerprint,
    LedgerEntry,
    Status,
    Submission,
    utcnow,
)
from tests.services.ledger.rows import add_evidence, add_verdicts, append_all


def _stored_entries(engine: sa.Engine) -> list[bytes]:
    with engine.connect() as conn:
        return [bytes(e) for e in conn.scalars(sa.select(LedgerEntry.entry).order_by(LedgerEntry.seq))]


def test_the_stage_stores_the_entry_the_orm_rows_encode_to(engine, log):
    ids = add_verdicts(engine, 2) + add_verdicts(engine, 4, digests=False)
    add_evidence(engine, ids[2:4])  # without a recorded digest: two with evidence rows, two with none

    append_all(engine, ids, log)

    with Session(engine) as session:
        expected = [verdict_entry(session, session.get_one(Submission, sid)) for sid in ids]
    assert _stored_entries(engine) == expected


def test_an_entry_names_its_federation_run_and_calibration(engine, log, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'aura.db'}"
    migrate(url)
    sqlite = get_engine(url)
    for database in (engine, sqlite):  # the stage's one-call read on PostgreSQL, the ORM rows elsewhere
        ids = add_verdicts(database, 2)
        append_all(database, ids, log)
        entries = [json.loads(e) for e in _stored_entries(database)][-2:]
        assert [(e["v"], e["federation"], e["run"], e["calibration"]) for e in entries] == \
            [(3, "heart-mlp", 1, "heart-mlp v1"), (3, "heart-mlp", 1, "heart-mlp v2")]


def _entry_digests(engine: sa.Engine) -> list[str]:
    return [json.loads(entry)["evidence_sha256"] for entry in _stored_entries(engine)]


def test_the_entry_carries_the_digest_the_detector_recorded_not_one_of_the_rows_now(engine, log):
    sid = add_verdicts(engine, 1)[0]
    add_evidence(engine, [sid])  # evidence rows that differ from what the recorded digest covers
    with engine.begin() as conn:
        recorded = conn.scalar(sa.select(Decision.evidence_sha256).where(Decision.submission_id == sid))

    append_all(engine, [sid], log)

    assert _entry_digests(engine) == [recorded]


def test_a_decision_without_a_digest_gets_the_digest_of_its_evidence_rows(engine, log):
    with_rows, without = add_verdicts(engine, 2, digests=False)
    add_evidence(engine, [with_rows])

    append_all(engine, [with_rows, without], log)

    with Session(engine) as session:
        expected = [evidence_digest(session.get(Evaluation, sid), session.get(Fingerprint, sid),
                                    session.get_one(Decision, sid).features) for sid in (with_rows, without)]
    assert _entry_digests(engine) == expected and expected[0] != expected[1]


def test_the_stage_marks_the_submission_recorded_and_a_copy_the_session_holds_learns_it(engine, log):
    sid = add_verdicts(engine, 1)[0]

    with Session(engine, expire_on_commit=False) as session, session.begin():
        submission = session.get_one(Submission, sid)
        append(session, sid, config=log)
        assert submission not in session.dirty  # no second UPDATE flushed
    with engine.connect() as conn:
        row = conn.execute(sa.select(Submission.status, Submission.recorded_at, Submission.updated_at)
                           .where(Submission.id == sid)).one()
        entry_time = conn.scalar(sa.select(LedgerEntry.created_at))

    assert row == (Status.RECORDED, entry_time, entry_time)
    assert (submission.status, submission.recorded_at, submission.updated_at) == tuple(row)


def _counting_engine(url: str, statements: list[tuple[str, bool]], **kwargs: object) -> sa.Engine:
    class Counting(psycopg2.extensions.cursor):
        def execute(self, query, vars=None):
            statements.append((query, self.connection.autocommit))
            return super().execute(query, vars)

    return sa.create_engine(url, connect_args={"cursor_factory": Counting}, **kwargs)


def test_the_stage_takes_two_round_trips_with_begin_and_commit_folded_in(ledger_db, log):
    statements: list[tuple[str, bool]] = []
    engine = _counting_engine(ledger_db, statements)
    ids = add_verdicts(engine, 3)
    append_all(engine, ids[:2], log)
    statements.clear()
    with Session(engine) as session, session.begin():
        append(session, ids[2], config=log, own_transaction=True)
    engine.dispose()

    # lock + state + submission + decision; entry + nodes + status. On an autocommit connection
    # psycopg2 sends no BEGIN or COMMIT of its own: those ride on the two statements.
    assert len(statements) == 2, statements
    (first, first_autocommit), (last, last_autocommit) = statements
    assert first.startswith("BEGIN; ") and last.rstrip().endswith("; COMMIT")
    assert first_autocommit and last_autocommit


def test_in_a_session_transaction_the_append_sends_two_statements_and_commits_with_it(ledger_db, log):
    statements: list[tuple[str, bool]] = []
    engine = _counting_engine(ledger_db, statements)
    sid = add_verdicts(engine, 1)[0]
    statements.clear()
    with Session(engine) as session:
        with session.begin():
            append(session, sid, config=log)
            session.rollback()  # the caller's transaction decides: nothing was committed
        with session.begin():
            append(session, sid, config=log)
    engine.dispose()

    assert len(statements) == 4 and len(_stored_entries(engine)) == 1
    assert not any(autocommit or "BEGIN" in query or "COMMIT" in query for query, autocommit in statements)


def _pooled_transaction_status(engine: sa.Engine) -> int:
    """psycopg2's transaction status of the (only) pooled connection, as the next user would get it."""
    raw = engine.raw_connection()
    try:
        return int(raw.dbapi_connection.info.transaction_status)  # type: ignore[union-attr]
    finally:
        raw.close()
        engine.dispose()


def test_a_failed_folded_append_leaves_no_open_transaction_on_the_pooled_connection(ledger_db, log):
    engine = sa.create_engine(ledger_db, pool_size=1, max_overflow=0)  # the next checkout is the same connection
    sid = add_verdicts(engine, 1)[0]
    with engine.begin() as conn:
        conn.execute(sa.delete(Decision).where(Decision.submission_id == sid))
    with Session(engine) as session, session.begin(), pytest.raises(LookupError, match="has no verdict"):
        append(session, sid, config=log, own_transaction=True)  # fails after its BEGIN and lock

    status = _pooled_transaction_status(engine)
    assert status == psycopg2.extensions.TRANSACTION_STATUS_IDLE


def test_a_folded_append_on_a_connection_pinged_after_idling_leaves_it_clean(ledger_db, log, monkeypatch):
    # The idle ping (shared.db) runs in a transaction of psycopg2's own; switching the connection
    # to autocommit must end it, or the folded BEGIN would nest in it and the pool keep it open.
    monkeypatch.setattr(shared.db, "PING_AFTER_IDLE_S", 0.0)  # every checkout after the first pings
    engine = shared.db.ping_when_idle(sa.create_engine(ledger_db, pool_size=1, max_overflow=0))
    ids = add_verdicts(engine, 2)

    results = append_all(engine, ids, log)

    monkeypatch.setattr(shared.db, "PING_AFTER_IDLE_S", 1e9)  # this checkout must not ping
    status = _pooled_transaction_status(engine)
    assert [(r.index, r.created) for r in results] == [(0, True), (1, True)]
    assert status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
    assert len(_stored_entries(sa.create_engine(ledger_db))) == 2


def test_a_folded_append_needs_a_session_not_used_yet(engine, log):
    sid = add_verdicts(engine, 1)[0]
    with Session(engine) as session, session.begin():
        session.get_one(Submission, sid)  # the session's connection is already in a transaction
        with pytest.warns(match="already established"), pytest.raises(RuntimeError, match="autocommit connection"):
            append(session, sid, config=log, own_transaction=True)

    assert _stored_entries(engine) == []


def test_an_entry_already_in_the_log_is_not_appended_again_and_its_submission_is_marked_recorded(engine, log):
    sid = add_verdicts(engine, 1)[0]
    with Session(engine) as session, session.begin():
        entry = verdict_entry(session, session.get_one(Submission, sid))
        append_entry(session, sid, entry, config=log)  # the log's part only: the status stays decided

    [again] = append_all(engine, [sid], log)

    with engine.connect() as conn:
        status = conn.scalar(sa.select(Submission.status).where(Submission.id == sid))
    assert (again.index, again.created, status) == (0, False, Status.RECORDED)
    assert _stored_entries(engine) == [entry]


def _append_a_missing_submission(engine: sa.Engine, log: LogConfig) -> None:
    with Session(engine) as session, session.begin(), \
            pytest.raises(LookupError, match=r"^submission no-such-id not found$"):
        append(session, "no-such-id", config=log)


def test_a_missing_submission_raises_lookup_error_on_postgresql(engine, log):
    _append_a_missing_submission(engine, log)

    assert _stored_entries(engine) == []


def test_a_missing_submission_raises_lookup_error_on_sqlite(tmp_path: Path, log):
    url = f"sqlite:///{tmp_path / 'aura.db'}"
    migrate(url)

    _append_a_missing_submission(get_engine(url), log)


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


def test_a_calibration_is_recorded_once_between_verdicts_and_the_log_verifies(engine, log, tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'aura.db'}"
    migrate(url)
    for database in (engine, get_engine(url)):
        append_all(database, add_verdicts(database, 2), log)
        with Session(database) as session, session.begin():
            version = (session.scalar(sa.select(sa.func.max(Calibration.version))) or 0) + 1
            row = Calibration(federation_id="heart-mlp", version=version, fitted={"rules": {}, "honest_scale": 0.1},
                              source={"run": 1, "rounds": [1, 2], "updates": 8, "note": "audited"})
            session.add(row)
            first = append_calibration(session, row, config=log)
            assert append_calibration(session, row, config=log) == Appended(index=first.index, created=False)
            calibration_id = row.id
        append_all(database, add_verdicts(database, 1), log)

        with Session(database) as session:
            stored = session.scalars(sa.select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(2)).all()
            assert verify(session, config=log).ok
        event = json.loads(stored[1].entry)
        owners = (stored[1].submission_id, stored[1].calibration_id, stored[0].calibration_id)
        assert owners == (None, calibration_id, None)
        assert (event["kind"], event["calibration"], event["source"]["rounds"]) == \
            ("calibration", f"heart-mlp v{version}", [1, 2])

"""Signed checkpoints: when they are published, what they say, and when the log refuses to sign."""

from __future__ import annotations

import base64
import os
from dataclasses import replace
from datetime import timedelta

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from services.ledger.checkpoints import (
    SigningRefused,
    checkpoint_due,
    checkpoint_files,
    latest_checkpoint,
    open_checkpoint,
    publish_checkpoint,
)
from services.ledger.keys import config_from_settings, load_or_create_key_file
from services.ledger.note import parse_signer_key, verify_note
from services.ledger.store import root_at
from shared.models import LedgerCheckpoint, utcnow
from shared.settings import Settings
from tests.services.ledger.rows import add_verdicts, append_all, publishing_every
from tests.services.ledger.tampering import as_superuser


def _sizes(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.scalars(sa.select(LedgerCheckpoint.size).order_by(LedgerCheckpoint.size)))


def test_appends_publish_a_checkpoint_every_n_entries(engine, log):
    results = append_all(engine, add_verdicts(engine, 12), publishing_every(log, 5))

    assert _sizes(engine) == [5, 10]
    assert [r.checkpoint_size for r in results if r.checkpoint_size] == [5, 10]


def test_entries_no_checkpoint_covers_ask_for_a_timed_one(engine, log):
    results = append_all(engine, add_verdicts(engine, 7), publishing_every(log, 5))

    assert [r.index for r in results if r.uncovered] == [0, 1, 2, 3, 5, 6]


def test_a_checkpoint_is_due_after_n_entries_or_t_seconds_but_never_with_nothing_new(log):
    config = replace(log, every_entries=10, every_s=60)
    now = utcnow()

    assert checkpoint_due(size=20, covered=10, covered_at=now, config=config, now=now)
    assert not checkpoint_due(size=19, covered=10, covered_at=now, config=config, now=now)
    assert checkpoint_due(size=11, covered=10, covered_at=now - timedelta(seconds=61), config=config, now=now)
    assert not checkpoint_due(size=10, covered=10, covered_at=now - timedelta(days=1), config=config, now=now)


def test_published_checkpoint_is_a_c2sp_note_signed_by_the_log_key_over_the_stored_root(engine, log):
    append_all(engine, add_verdicts(engine, 6), log)

    with Session(engine, expire_on_commit=False) as session, session.begin():
        row = publish_checkpoint(session, config=log)
        assert row is not None
        root = root_at(session, 6)

    body = verify_note(row.note.encode(), log.key_name, log.public_key)
    assert body == f"test.aura/ledger\n6\n{base64.b64encode(root).decode()}\n".encode()
    assert open_checkpoint(row.note, log).root == row.root_hash == root


def test_committed_checkpoint_is_written_once_to_the_checkpoint_folder(engine, log):
    append_all(engine, add_verdicts(engine, 3), log)

    with Session(engine, expire_on_commit=False) as session, session.begin():
        row = publish_checkpoint(session, config=log)

    assert [(p.name, text) for p, text in checkpoint_files(log.checkpoint_dir)] == [("000000000003.note", row.note)]


def test_rolled_back_checkpoint_leaves_no_file(engine, log):
    append_all(engine, add_verdicts(engine, 3), log)

    with Session(engine) as session:
        session.begin()
        assert publish_checkpoint(session, config=log) is not None
        session.rollback()

    assert checkpoint_files(log.checkpoint_dir) == []
    assert _sizes(engine) == []


def test_publishing_with_nothing_new_signs_nothing(engine, log):
    append_all(engine, add_verdicts(engine, 4), log)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        first = publish_checkpoint(session, config=log)

    with Session(engine, expire_on_commit=False) as session, session.begin():
        again = publish_checkpoint(session, config=log)

    assert again is not None and first is not None and again.note == first.note
    assert _sizes(engine) == [4]


def test_log_refuses_to_sign_a_tree_that_does_not_extend_its_last_checkpoint(engine, log):
    ids = add_verdicts(engine, 6)
    append_all(engine, ids[:4], log)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        publish_checkpoint(session, config=log)
    append_all(engine, ids[4:], log)
    as_superuser(engine, "UPDATE ledger_nodes SET hash = :h WHERE level = 2 AND index = 0", {"h": bytes(32)})

    with Session(engine) as session, session.begin(), pytest.raises(SigningRefused, match="fork"):
        publish_checkpoint(session, config=log)
    assert _sizes(engine) == [4]


def test_log_refuses_to_sign_when_its_last_checkpoint_is_not_under_its_key(engine, log):
    append_all(engine, add_verdicts(engine, 3), log)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        publish_checkpoint(session, config=log)
    append_all(engine, add_verdicts(engine, 1), log)
    other_key = replace(log, private_key=Ed25519PrivateKey.generate())

    with Session(engine) as session, session.begin(), pytest.raises(SigningRefused, match="key"):
        publish_checkpoint(session, config=other_key)


def test_latest_checkpoint_is_the_largest(engine, log):
    append_all(engine, add_verdicts(engine, 9), publishing_every(log, 4))

    with Session(engine) as session:
        latest = latest_checkpoint(session)

    assert latest is not None and latest.size == 8


def test_key_file_is_created_once_private_to_its_owner_and_then_reused(tmp_path):
    path = tmp_path / "keys" / "ledger.key"

    first = load_or_create_key_file(path, "aura.test/log")
    second = load_or_create_key_file(path, "aura.test/log")

    assert first == second and first.startswith("PRIVATE+KEY+aura.test/log+")
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert parse_signer_key(first)[0] == "aura.test/log"


def test_signing_key_text_in_the_settings_wins_over_the_key_file(tmp_path):
    text = load_or_create_key_file(tmp_path / "given.key", "given.name")
    settings = Settings(data_dir=tmp_path / "data", ledger_signing_key=text)  # type: ignore[arg-type]

    config = config_from_settings(settings)

    assert config.key_name == "given.name"
    assert not (tmp_path / "data" / "ledger.key").exists()
    assert text not in repr(settings) and text not in repr(config)

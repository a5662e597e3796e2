"""The migrations produce exactly the schema the models describe, on PostgreSQL and SQLite."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from shared.db import alembic_config, create_database, drop_database, migrate
from shared.models import Base


def _diff(url: str) -> list[object]:
    engine = create_engine(url)
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))


def test_migrated_postgresql_schema_equals_the_models(database):
    assert _diff(database) == []


def test_migrations_run_on_sqlite_and_equal_the_models(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'aura.db'}"
    migrate(url)
    assert _diff(url) == []


def _functions(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        names = set(conn.scalars(text("SELECT proname FROM pg_proc WHERE proname LIKE 'aura_ledger_%'")))
    engine.dispose()
    return names


def test_the_ledger_append_functions_downgrade_and_upgrade_again(database):
    url = create_database(database, "aura_migrations")
    try:
        migrate(url)
        command.downgrade(alembic_config(url), "0003")
        after_downgrade = _functions(url)
        migrate(url)

        assert "aura_ledger_append_verdict_state" not in after_downgrade
        assert "aura_ledger_append_state" in after_downgrade
        assert "aura_ledger_append_decision_state" in _functions(url)
    finally:
        drop_database(database, url)


def test_0007_swaps_the_stage_read_for_one_without_the_evidence_and_back(database):
    url = create_database(database, "aura_migrations")
    try:
        migrate(url)
        upgraded = _functions(url)
        command.downgrade(alembic_config(url), "0006")
        downgraded = _functions(url)
        engine = create_engine(url)
        with engine.connect() as conn:
            columns = set(conn.scalars(text("SELECT column_name FROM information_schema.columns "
                                            "WHERE table_name = 'decisions'")))
        engine.dispose()

        assert "aura_ledger_append_decision_state" in upgraded
        assert "aura_ledger_append_verdict_state" not in upgraded
        assert "aura_ledger_append_verdict_state" in downgraded
        assert "aura_ledger_append_decision_state" not in downgraded
        assert "evidence_sha256" not in columns
    finally:
        drop_database(database, url)


def test_submissions_keep_room_in_each_page_for_the_stages_updates_on_postgresql(database):
    engine = create_engine(database)
    with engine.connect() as conn:
        options = conn.scalar(text("SELECT reloptions FROM pg_class WHERE relname = 'submissions'"))
    engine.dispose()
    assert "fillfactor=70" in options

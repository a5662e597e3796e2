"""The migrations produce exactly the schema the models describe, on PostgreSQL and SQLite."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from shared.db import migrate
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

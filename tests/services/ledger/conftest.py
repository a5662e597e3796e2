"""Fixtures of the ledger's database tests: a fresh migrated PostgreSQL database per test.

Tampering tests disable triggers and rewrite rows, so each test gets a database of its own,
cloned from a template migrated once per session, and a log key and checkpoint folder of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.ledger.keys import LogConfig
from shared.db import create_database, drop_database


@pytest.fixture(scope="session")
def ledger_template(database: str) -> Iterator[str]:
    """A database migrated to head, cloned by every `ledger_db`."""
    from shared.db import migrate

    url = create_database(database, "aura_ledger")
    migrate(url)
    yield url
    drop_database(database, url)


@pytest.fixture
def ledger_db(database: str, ledger_template: str) -> Iterator[str]:
    """URL of a fresh migrated database of this test's own."""
    url = create_database(database, "aura_ledger", template=sa.engine.make_url(ledger_template).database)
    yield url
    drop_database(database, url)


@pytest.fixture
def engine(ledger_db: str) -> Iterator[sa.Engine]:
    """An engine on the test's database."""
    engine = sa.create_engine(ledger_db)
    yield engine
    engine.dispose()


@pytest.fixture
def log(tmp_path: Path) -> LogConfig:
    """A log of this test's own: fresh key and checkpoint folder; checkpoints only when asked."""
    return LogConfig(origin="test.aura/ledger", key_name="test.aura/ledger", private_key=Ed25519PrivateKey.generate(),
                     checkpoint_dir=tmp_path / "checkpoints", every_entries=10**9, every_s=10**9)

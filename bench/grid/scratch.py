"""A scratch AURA for one benchmark run: SQLite and a blob store in a temporary folder of its own.

Every vetted run starts from an empty AURA, as a new federation would: no run's verdicts depend
on another's history, so runs can go in any order and in parallel processes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.ledger.keys import log_config
from shared.bootstrap import prepare
from shared.db import get_engine
from shared.settings import get_settings

# The settings this context points elsewhere; everything else stays as the process had it.
_KEYS = ("AURA_DATA_DIR", "AURA_DATABASE_URL", "AURA_BLOB_DIR", "AURA_LEDGER_KEY_FILE", "AURA_CHECKPOINT_DIR",
         "AURA_LEDGER_SIGNING_KEY")


def _scratch_root() -> str | None:
    # tmpfs where there is one: SQLite's fsyncs then cost nothing.
    return "/dev/shm" if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK) else None


def _reload_settings() -> None:
    get_settings.cache_clear()
    log_config.cache_clear()


@contextmanager
def scratch_aura() -> Iterator[Path]:
    """Point this process's AURA settings at a fresh, migrated SQLite AURA; restore them afterwards."""
    root = Path(tempfile.mkdtemp(prefix="aura-bench-", dir=_scratch_root()))
    saved = {k: os.environ.get(k) for k in _KEYS}
    for key in _KEYS:
        os.environ.pop(key, None)
    os.environ["AURA_DATA_DIR"] = str(root)
    os.environ["AURA_DATABASE_URL"] = ""
    _reload_settings()
    try:
        prepare()
        yield root
    finally:
        get_engine().dispose()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _reload_settings()
        shutil.rmtree(root, ignore_errors=True)

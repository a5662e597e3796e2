"""`aura bench ledger` end to end at a tiny size: the figures the issue asks for, in the JSON file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from shared.db import create_database, drop_database

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = ("appends_per_s", "raw_inserts_per_s", "append_ratio", "verify_s_1m", "sha256_s_1m", "verify_ratio_1m",
            "inclusion_proof_ms_1m", "consistency_proof_ms_1m")


def test_a_tiny_ledger_benchmark_writes_every_required_figure(database: str, tmp_path: Path):
    url = create_database(database, "aura_bench_ledger")
    out = tmp_path / "ledger.json"
    try:
        run = subprocess.run(
            [sys.executable, "-m", "aura.cli", "bench", "ledger", "--appends", "250", "--repeats", "2",
             "--entries", "3000", "--out", str(out)],
            cwd=ROOT, env=os.environ | {"AURA_DATABASE_URL": url}, capture_output=True, text=True, timeout=300)
    finally:
        drop_database(database, url)

    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(out.read_text())
    assert all(results[key] > 0 for key in REQUIRED), results
    assert len(results["append_ratio_per_repeat"]) == 2
    assert results["entries_1m"] == 3000
    # 2 repeats x 250 verdicts through the stage and 250 through the log part, then synthetic entries
    assert results["synthetic_entries"].startswith("entries 1000 to 2999 ")
    assert "append_ratio" in run.stdout

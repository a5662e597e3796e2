"""The embedded default, run the way `aura up` runs it: separate processes, SQLite, filesystem broker."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from tests.conftest import ROOT, free_port, stop_process, wait_for
from tests.support import trained_update, wait_recorded


def test_aura_up_vets_an_update_with_nothing_but_sqlite_and_the_filesystem_broker(tmp_path):
    port = free_port()
    admin = {"X-API-Key": "aura_embedded_admin_key"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("AURA_")}  # no servers configured
    env |= {"AURA_DATA_DIR": str(tmp_path / "state"), "AURA_BOOTSTRAP_OPERATOR_KEY": admin["X-API-Key"]}
    with open(tmp_path / "up.log", "wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "aura.cli", "up", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{url}/api/v1/ready").status_code == 200, 90, "aura up to be ready")
        hospital = httpx.post(f"{url}/api/v1/hospitals", headers=admin, json={"id": "cleveland", "name": "Cleveland"})
        key = {"X-API-Key": hospital.json()["api_key"]}
        created = httpx.post(f"{url}/api/v1/submissions", headers=key, timeout=30,
                             files={"file": ("u.safetensors", trained_update(centre="Cleveland"))},
                             data={"task": "heart-mlp", "round": "1"})
        assert created.status_code == 201, created.text

        body = wait_recorded(url, admin, created.json()["id"], timeout=120)

        assert body["verdict"] == "accepted"
        assert httpx.post(f"{url}/api/v1/ledger/verify", headers=admin).json()["ok"]
        assert (tmp_path / "state" / "aura.db").exists()
    finally:
        stop_process(proc)
    log_text = (tmp_path / "up.log").read_text()
    assert "sqlite" in log_text and "filesystem://" in log_text

"""`aura up` supervises its processes: a taken port stops it at once, a process that exits is restarted with
backoff, one that keeps exiting stops AURA with status 1 and the reason."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from aura.processes import children
from aura.stack import MAX_RESTARTS, Child, GaveUp, Stack
from tests.conftest import ROOT, free_port, wait_for

pytestmark = pytest.mark.slow  # starts and kills `aura up` and its processes


def _embedded_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AURA_")}
    return env | {"AURA_DATA_DIR": str(folder)}


def test_a_taken_port_stops_aura_up_with_status_2_and_says_which(tmp_path: Path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "aura.cli", "up", "--port", str(port)], cwd=ROOT,
                              env=_embedded_env(tmp_path), capture_output=True, text=True, timeout=120)

    assert done.returncode == 2
    assert f"port {port} on 127.0.0.1 is taken" in done.stderr and "--port" in done.stderr


def _exits(status: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", f"raise SystemExit({status})"])


def test_a_process_that_exits_is_restarted_with_growing_backoff_until_it_keeps_exiting():
    child = Child("worker", lambda: _exits(3), _exits(3))
    stack = Stack("http://x", "k", [child])
    said, slept = [], []

    with pytest.raises(GaveUp, match=r"the worker exited 6 times within 5 minutes \(last exit status 3\)"):
        for _ in range(MAX_RESTARTS + 1):
            child.proc.wait()
            stack.supervise_once(say=said.append, sleep=slept.append)

    assert slept == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert said[0] == "aura: the worker exited with status 3; restarting it in 1 s"


def _worker_of(pid: int) -> int | None:
    for child in children(pid):
        try:
            if b"celery" in (Path("/proc") / str(child) / "cmdline").read_bytes():
                return child
        except OSError:
            continue
    return None


def test_aura_up_restarts_a_killed_worker_and_keeps_serving(tmp_path: Path):
    port = free_port()
    up = subprocess.Popen([sys.executable, "-m", "aura.cli", "up", "--port", str(port)], cwd=ROOT,
                          env=_embedded_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: _health(port), 90, "aura up to serve")
        worker = _worker_of(up.pid)
        assert worker is not None
        os.kill(worker, signal.SIGKILL)
        wait_for(lambda: _worker_of(up.pid) not in (None, worker), 30, "a new worker")
        assert up.poll() is None and _health(port)
    finally:
        up.send_signal(signal.SIGTERM)
        _, err = up.communicate(timeout=60)
    assert up.returncode == 0
    assert b"the worker exited with status -9; restarting it in 1 s" in err


def _health(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False



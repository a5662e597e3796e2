"""AURA on one machine: migrate, install the admin key, start gateway + worker + sweeper processes.

`aura up` and `aura demo` both start AURA this way; with no environment set it runs on the
embedded default (SQLite, local blob folder, kombu's filesystem broker under .aura/).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass

import httpx

from aura.processes import gateway_cmd, spawn, sweeper_cmd, worker_cmd
from shared.settings import get_settings


@dataclass
class Stack:
    """The running processes, where the gateway listens, and the admin key."""

    url: str
    admin_key: str
    procs: list[subprocess.Popen[bytes]]

    def alive(self) -> bool:
        """True while every process is still running."""
        return all(p.poll() is None for p in self.procs)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until the gateway answers its health check (RuntimeError if a process died or time ran out)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError("an AURA process exited during start-up; see its output above")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the gateway did not answer at {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        """Ask each process to stop, then kill the ones that do not within 10 s."""
        stop_processes(self.procs)


def stop_processes(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every process still running, wait up to 10 s each, kill the rest."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


def start_stack(*, port: int = 0, concurrency: int = 2, quiet: bool = False) -> Stack:
    """Prepare the database and start AURA's processes; `quiet` sends their output to the data folder."""
    from services.gateway.auth import ensure_key
    from shared.bootstrap import prepare
    from shared.db import session_scope
    from shared.models import Role

    settings = get_settings()
    prepare()
    key = settings.bootstrap_operator_key or "aura_admin_" + secrets.token_urlsafe(24)
    with session_scope() as session:
        ensure_key(session, key, Role.ADMIN)
    port = port or settings.gateway_port
    # The gateway's own port, so the public URL it derives (unless one is set) is where it listens.
    env = {"AURA_BOOTSTRAP_OPERATOR_KEY": key, "AURA_GATEWAY_PORT": str(port)}
    commands = [gateway_cmd(settings.gateway_host, port), worker_cmd(concurrency=concurrency), sweeper_cmd()]
    procs = []
    for name, cmd in zip(("gateway", "worker", "sweeper"), commands, strict=True):
        if quiet:
            logs = settings.data_dir / "logs"
            logs.mkdir(parents=True, exist_ok=True)
            with open(logs / f"{name}.log", "ab") as out:
                procs.append(subprocess.Popen(cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT))
        else:
            procs.append(spawn(cmd, env))
    return Stack(f"http://{settings.gateway_host}:{port}", key, procs)


"""Starting AURA's processes: the gateway, the workers and the sweeper, as separate programs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from shared.celery_app import Queue


def gateway_cmd(host: str, port: int) -> list[str]:
    """Command line of the gateway process."""
    # --no-proxy-headers: the app decides whom to trust with X-Forwarded-For (AURA_TRUSTED_PROXIES).
    return [sys.executable, "-m", "uvicorn", "services.gateway.app:app", "--host", host, "--port", str(port),
            "--log-level", "warning", "--no-proxy-headers"]


def worker_cmd(queues: Sequence[Queue] = tuple(Queue), concurrency: int = 2, name: str = "aura") -> list[str]:
    """Command line of a Celery worker consuming `queues`."""
    return [sys.executable, "-m", "celery", "-A", "shared.celery_app:app", "worker",
            "-Q", ",".join(q.value for q in queues), "-c", str(concurrency), "-n", f"{name}@%h",
            "--loglevel", "WARNING", "--without-gossip", "--without-mingle"]


def sweeper_cmd() -> list[str]:
    """Command line of the sweeper process."""
    return [sys.executable, "-m", "aura.cli", "sweeper"]


def spawn(cmd: list[str], env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start `cmd` with the current environment plus `env`."""
    return subprocess.Popen(cmd, env={**os.environ, **(env or {})})


def children(pid: int) -> list[int]:
    """The process ids whose parent is `pid` (read from /proc: Linux)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:  # the parent id is the second field after the parenthesised command name
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):  # the process ended while we looked
                continue
    return out

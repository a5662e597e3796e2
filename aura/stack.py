"""AURA on one machine: migrate, install the admin key, start gateway + worker + sweeper processes.

`aura up` and `aura demo` both start AURA this way; with no environment set it runs on the
embedded default (SQLite, local blob folder, kombu's filesystem broker under .aura/).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from aura.processes import gateway_cmd, spawn, sweeper_cmd, worker_cmd
from shared.settings import get_settings


@dataclass
class Child:
    """One supervised process: how to start it, the running one, and when it was restarted lately."""

    name: str
    start: Callable[[], subprocess.Popen[bytes]]
    proc: subprocess.Popen[bytes]
    restarts: deque[float] = field(default_factory=deque)


class GaveUp(RuntimeError):
    """A process kept exiting: restarting it again would hide a real fault."""


MAX_RESTARTS, RESTART_PERIOD_S, MAX_BACKOFF_S = 5, 300.0, 30.0


@dataclass
class Stack:
    """The running processes, where the gateway listens, and the admin key."""

    url: str
    admin_key: str
    children: list[Child]

    @property
    def procs(self) -> list[subprocess.Popen[bytes]]:
        """The processes running now."""
        return [c.proc for c in self.children]

    def supervise_once(self, say: Callable[[str], None] = print, sleep: Callable[[float], None] = time.sleep) -> None:
        """Restart any process that exited, after a backoff of 1, 2, 4, ... 30 s; GaveUp after MAX_RESTARTS of
        one process within RESTART_PERIOD_S."""
        for child in self.children:
            code = child.proc.poll()
            if code is None:
                continue
            now = time.monotonic()
            while child.restarts and now - child.restarts[0] > RESTART_PERIOD_S:
                child.restarts.popleft()
            if len(child.restarts) >= MAX_RESTARTS:
                raise GaveUp(f"the {child.name} exited {len(child.restarts) + 1} times within "
                             f"{RESTART_PERIOD_S / 60:.0f} minutes (last exit status {code}); see its output above")
            backoff = min(MAX_BACKOFF_S, 2.0 ** len(child.restarts))
            say(f"aura: the {child.name} exited with status {code}; restarting it in {backoff:.0f} s")
            sleep(backoff)
            child.proc = child.start()
            child.restarts.append(time.monotonic())

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
    children = []
    for name, cmd in zip(("gateway", "worker", "sweeper"), commands, strict=True):
        start = starter(cmd, env, settings.data_dir / "logs" / f"{name}.log" if quiet else None)
        children.append(Child(name, start, start()))
    return Stack(f"http://{settings.gateway_host}:{port}", key, children)


def starter(cmd: list[str], env: dict[str, str], log: Path | None) -> Callable[[], subprocess.Popen[bytes]]:
    """A function that starts `cmd` (output to `log`, or to this terminal), for a supervised `Child`."""
    def start() -> subprocess.Popen[bytes]:
        if log is None:
            return spawn(cmd, env)
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            return subprocess.Popen(cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)

    return start


def port_taken(host: str, port: int) -> bool:
    """Whether something already listens on host:port (the gateway would exit at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


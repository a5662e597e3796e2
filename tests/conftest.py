"""Test services: real PostgreSQL and Redis, real Celery worker and gateway processes.

Two lanes. `make test` runs everything: PostgreSQL and Redis come from testcontainers when a
Docker engine answers, otherwise from the services already running on this machine
(``AURA_TEST_POSTGRES_URL``, ``AURA_TEST_REDIS_URL``). The session gets a PostgreSQL database of
its own (``aura_test_<random>``: named at import, created by the session-scoped ``database``
fixture on first use, which every integration test gets, dropped at the end) and claims Redis databases that nobody uses
(empty, then marked with ``aura:test-session``: host, pid); it flushes only those it claimed, or
one whose claiming session has died. The
``AURA_*`` environment is set before any AURA module is imported, so in-process code, the worker
processes and the gateway process all see the same configuration.

`make test-fast` (``AURA_TEST_LANE=unit``, ``-m "not integration and not slow"``) needs neither
service and runs in well under a minute: a test is an integration test when it is marked so, lies
under tests/integration/ or uses the ``database`` fixture (which every service fixture depends
on); `slow` marks tests that need no service but run whole processes or train models. The unit
lane's settings point at addresses where nothing listens, so a test that reaches for a service
without saying so fails instead of touching one.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from shared.db import create_database, drop_database

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # lets tests import tests.support under --import-mode=importlib
    sys.path.insert(0, str(ROOT))
UNIT_LANE = os.environ.get("AURA_TEST_LANE") == "unit"
CLAIM = "aura:test-session"  # the key that marks a Redis database as a test session's: host:pid:random
SESSION_CLAIM = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
_containers: list[object] = []


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:  # no engine, no socket, no permission: fall back to local services
        return False


def _service_urls() -> tuple[str, str]:
    if UNIT_LANE:  # nothing listens on port 1: a test that needs a service fails at once
        return "postgresql+psycopg2://unit-lane@127.0.0.1:1/none", "redis://127.0.0.1:1/0"
    if _docker_available():
        from testcontainers.postgres import PostgresContainer
        from testcontainers.redis import RedisContainer

        pg = PostgresContainer("postgres:15", driver="psycopg2").start()
        rd = RedisContainer("redis:7").start()
        _containers.extend([pg, rd])
        redis_url = f"redis://{rd.get_container_host_ip()}:{rd.get_exposed_port(6379)}/0"
        return pg.get_connection_url(), redis_url
    return (
        os.environ.get("AURA_TEST_POSTGRES_URL", "postgresql+psycopg2://root@127.0.0.1:5432/test"),
        os.environ.get("AURA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    )


def _stale(claim: bytes) -> bool:
    """A claim by a test session on this machine whose process is gone."""
    fields = claim.decode(errors="replace").split(":")
    if len(fields) != 3 or fields[0] != socket.gethostname() or not fields[1].isdigit():
        return False
    try:
        os.kill(int(fields[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        pass
    return False


def claim_redis(base: str, skip: tuple[int, ...] = ()) -> str:
    """A Redis database (1-15) that was empty, or left by a dead test session of ours, claimed for this one."""
    import redis

    root = base.rsplit("/", 1)[0]
    for index in range(1, 16):
        if index in skip:
            continue
        client = redis.Redis.from_url(f"{root}/{index}")
        held = client.get(CLAIM)
        if held is not None and _stale(held):
            client.flushdb()  # a test session of ours that died: its data is ours to drop
        elif held is not None or client.dbsize() != 0:
            continue  # another session's, or someone else's data
        if client.set(CLAIM, SESSION_CLAIM, nx=True):
            return f"{root}/{index}"
    raise RuntimeError(f"no free Redis database on {root}: every one of 1-15 holds data or another session's claim")


def release_redis(url: str) -> None:
    """Flush a claimed Redis database, which also gives it back (only if this session holds it)."""
    import redis

    client = redis.Redis.from_url(url)
    if client.get(CLAIM) == SESSION_CLAIM.encode():
        client.flushdb()


def flush_claimed(url: str) -> None:
    """Empty a database this session claimed, keeping the claim."""
    import redis

    client = redis.Redis.from_url(url)
    assert client.get(CLAIM) == SESSION_CLAIM.encode(), f"{url} is not this test session's"
    client.flushdb()
    client.set(CLAIM, SESSION_CLAIM)


ADMIN_PG_URL, REDIS_BASE_URL = _service_urls()
# Named now (the settings read it when AURA modules load), created by the `database` fixture.
DATABASE_URL = ADMIN_PG_URL if UNIT_LANE else \
    sa.make_url(ADMIN_PG_URL).set(database=f"aura_test_{uuid.uuid4().hex[:10]}").render_as_string(hide_password=False)
_created: list[str] = []
BROKER_URL = REDIS_BASE_URL if UNIT_LANE else claim_redis(REDIS_BASE_URL)
_spares: dict[int, str] = {}
DATA_DIR = Path(tempfile.mkdtemp(prefix="aura-test-"))
OPERATOR_KEY = "aura_test_admin_" + uuid.uuid4().hex
os.environ.update({
    "AURA_DATABASE_URL": DATABASE_URL,
    "AURA_BROKER_URL": BROKER_URL,
    "AURA_DATA_DIR": str(DATA_DIR),
    "AURA_BOOTSTRAP_OPERATOR_KEY": OPERATOR_KEY,
    # Short enough for the sweeper tests, long enough that a busy 2-core machine is not "stuck".
    "AURA_STUCK_AFTER_S": "30",
    # Many tests send bad keys on purpose, all from 127.0.0.1: the limit is tested on its own
    # gateway (tests/services/gateway/test_auth_limits.py) with addresses of its own.
    "AURA_AUTH_FAIL_LIMIT": "100000",
})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Integration tests: those under tests/integration/ and those using the session database (every service
    fixture does)."""
    for item in items:
        if "database" in getattr(item, "fixturenames", ()) or "integration" in item.path.relative_to(ROOT).parts[:2]:
            item.add_marker(pytest.mark.integration)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the session's database and stop any containers."""
    if UNIT_LANE:
        return
    with contextlib.suppress(Exception):
        from shared.db import get_engine

        get_engine().dispose()
        for url in _created:
            drop_database(ADMIN_PG_URL, url)
    for url in (BROKER_URL, *_spares.values()):
        with contextlib.suppress(Exception):
            release_redis(url)
    for container in _containers:
        with contextlib.suppress(Exception):
            container.stop()  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _services(request: pytest.FixtureRequest) -> None:
    """An integration test gets the session database even when it talks to it without asking for it."""
    if request.node.get_closest_marker("integration") is not None:
        request.getfixturevalue("database")


@pytest.fixture(scope="session")
def database() -> str:
    """The session's PostgreSQL database, created and migrated on first use (round 1 open for every task)."""
    from services.gateway.auth import ensure_key
    from shared.bootstrap import prepare
    from shared.db import session_scope
    from shared.models import Role

    create_database(ADMIN_PG_URL, name=sa.make_url(DATABASE_URL).database)
    _created.append(DATABASE_URL)
    prepare()
    with session_scope() as session:
        ensure_key(session, OPERATOR_KEY, Role.ADMIN)
    return DATABASE_URL


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `predicate` until it holds, or fail the test saying what never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def start_process(
    cmd: list[str], env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start an AURA process with the test environment (output to `log`)."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    # A session of its own, so a test can kill the whole process group (a worker and its children).
    return subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Terminate a process and reap it (kill after 15 s)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def spare_broker(name: int) -> str:
    """Another Redis database claimed for this session (one per `name`): no session worker consumes it."""
    if name not in _spares:
        taken = tuple(int(url.rsplit("/", 1)[1]) for url in (BROKER_URL, *_spares.values()))
        _spares[name] = claim_redis(REDIS_BASE_URL, skip=taken)
    return _spares[name]


@contextlib.contextmanager
def running_gateway(env: dict[str, str], log: Path) -> Iterator[str]:
    """A gateway process (uvicorn) with `env` on a free port, until the block ends; its URL."""
    from aura.processes import gateway_cmd

    port = free_port()
    proc = start_process(gateway_cmd("127.0.0.1", port), env={"AURA_GATEWAY_PORT": str(port), **env}, log=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{url}/api/v1/health").status_code == 200, 60, f"the gateway at {url} to start")
        yield url
    finally:
        stop_process(proc)


@contextlib.contextmanager
def private_stack(env: dict[str, str], logs: Path, name: str) -> Iterator[str]:
    """A gateway and a one-process worker of their own with `env` (say, another PYTHONPATH and broker); its URL."""
    from aura.processes import worker_cmd

    worker = start_process(worker_cmd(concurrency=1, name=f"{name}-{uuid.uuid4().hex[:6]}"), env=env,
                           log=logs / f"{name}-worker.log")
    try:
        with running_gateway(env, logs / f"{name}-gateway.log") as url:
            yield url
    finally:
        stop_process(worker)


@pytest.fixture(scope="session")
def gateway(database: str) -> Iterator[str]:
    """Base URL of the session's gateway process (uvicorn) on a free port."""
    with running_gateway({}, DATA_DIR / "gateway.log") as url:
        yield url


@pytest.fixture(scope="session")
def worker(database: str) -> Iterator[subprocess.Popen[bytes]]:
    """A real Celery worker process consuming every queue (concurrency 2)."""
    from aura.processes import worker_cmd

    proc = start_process(worker_cmd(concurrency=2, name=f"test-{uuid.uuid4().hex[:6]}"),
                         log=DATA_DIR / "worker.log")
    yield proc
    stop_process(proc)


@dataclass(frozen=True)
class HospitalKey:
    """A hospital registered for a test, with its API key."""

    id: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        """Auth headers for this hospital."""
        return {"X-API-Key": self.key}


@pytest.fixture
def new_hospital(database: str) -> Callable[[], HospitalKey]:
    """Factory of fresh hospitals (unique ids, so tests never share a round)."""
    from services.gateway.auth import add_hospital
    from shared.db import session_scope

    def make() -> HospitalKey:
        hospital_id = f"h-{uuid.uuid4().hex[:8]}"
        with session_scope() as session:
            key = add_hospital(session, hospital_id, hospital_id)
        return HospitalKey(hospital_id, key)

    return make


@pytest.fixture
def operator_headers(database: str) -> dict[str, str]:
    """Auth headers of the test session's admin key."""
    return {"X-API-Key": OPERATOR_KEY}


@pytest.fixture
def new_round(database: str) -> Callable[[str], int]:
    """Factory of fresh rounds (global model = the task's initial weights), so peers are the test's own."""
    from shared.db import session_scope
    from shared.federations import Scope, next_round
    from shared.modeltask.registry import get_task
    from shared.weights import register_global

    def make(task: str = "heart-mlp") -> int:
        with session_scope() as session:
            # A transaction-scoped lock: parallel callers never pick the same round number.
            if session.get_bind().dialect.name == "postgresql":
                session.execute(sa.text("SELECT pg_advisory_xact_lock(4242)"))
            round_ = next_round(session, Scope(task, 1))
            register_global(session, task, round_, get_task(task).initial_weights())
        return round_

    return make

"""The `aura` command: run AURA, manage hospitals, and measure it."""

from __future__ import annotations

import logging
import secrets
import signal
import subprocess
import sys
import time
from typing import Annotated

import typer

from aura.cli_ledger import ledger_app, verify_app
from shared.settings import get_settings

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                  help="AURA: vets federated-learning model updates.")
hospitals_app = typer.Typer(no_args_is_help=True, help="Manage hospitals and their keys.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print their figures.")
app.add_typer(hospitals_app, name="hospitals")
app.add_typer(bench_app, name="bench")
app.add_typer(verify_app, name="verify")
app.add_typer(ledger_app, name="ledger")


@app.command()
def migrate() -> None:
    """Bring the database to the newest schema and open round 1 of every task."""
    from shared.bootstrap import prepare

    prepare()
    typer.echo(f"database ready: {get_settings().resolved_database_url}")


@hospitals_app.command("add")
def hospitals_add(hospital_id: str, name: Annotated[str, typer.Option(help="display name")] = "") -> None:
    """Register a hospital and print its API key (shown this once)."""
    from services.gateway.auth import add_hospital
    from shared.db import session_scope

    with session_scope() as session:
        try:
            key = add_hospital(session, hospital_id, name or hospital_id)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    typer.echo(key)


@app.command()
def operator_key(admin: bool = True) -> None:
    """Issue an operator (default: admin) key and print it once."""
    from services.gateway.auth import issue_key
    from shared.db import session_scope
    from shared.models import Role

    with session_scope() as session:
        typer.echo(issue_key(session, Role.ADMIN if admin else Role.OPERATOR))


@app.command()
def sweeper() -> None:
    """Re-queue stuck submissions forever (one process per deployment is enough)."""
    from services.intake.sweeper import run_forever

    logging.basicConfig(level=logging.INFO)
    run_forever()


@app.command()
def up(
    port: Annotated[int, typer.Option(help="gateway port")] = 0,
    concurrency: Annotated[int, typer.Option(help="worker processes")] = 2,
) -> None:
    """Run the gateway, a worker for all queues and the sweeper on this machine until Ctrl-C."""
    from aura.processes import gateway_cmd, spawn, sweeper_cmd, worker_cmd
    from services.gateway.auth import ensure_key
    from shared.bootstrap import prepare
    from shared.db import session_scope
    from shared.models import Role

    settings = get_settings()
    prepare()
    key = settings.bootstrap_operator_key or "aura_admin_" + secrets.token_urlsafe(24)
    with session_scope() as session:
        ensure_key(session, key, Role.ADMIN)
    env = {"AURA_BOOTSTRAP_OPERATOR_KEY": key}
    port = port or settings.gateway_port
    procs = [spawn(gateway_cmd(settings.gateway_host, port), env), spawn(worker_cmd(concurrency=concurrency), env),
             spawn(sweeper_cmd(), env)]
    typer.echo(f"AURA is up: http://{settings.gateway_host}:{port}/  (API docs at /docs)")
    typer.echo(f"database {settings.resolved_database_url}, broker {settings.resolved_broker_url}")
    typer.echo(f"admin key: {key}")
    # SIGTERM (docker stop, a test's terminate) must also stop the children: turn it into the
    # same exit path as Ctrl-C, which runs the `finally` below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop(procs)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Ask each process to stop, then kill the ones that do not within 10 s."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()


@bench_app.command("pipeline")
def bench_pipeline(
    updates: Annotated[int, typer.Option(help="updates to vet")] = 400,
    out: Annotated[str, typer.Option(help="JSON results file")] = "bench/results/pipeline.json",
    postgres: Annotated[str, typer.Option(help="PostgreSQL server (fresh databases are made on it)")] =
    "postgresql+psycopg2://root@127.0.0.1:5432/test",
    redis: Annotated[str, typer.Option(help="Redis server (database 13 is used and flushed)")] =
    "redis://127.0.0.1:6379/0",
) -> None:
    """Vetted updates/s and submit-to-ledger latency on Redis + PostgreSQL, beside empty chains and in-process."""
    from aura.bench_pipeline import run

    run(updates=updates, out=out, pg_server=postgres, redis_server=redis)


@bench_app.command("ledger")
def bench_ledger(
    appends: Annotated[int, typer.Option(help="verdicts appended through the append function")] = 2000,
    entries: Annotated[int, typer.Option(help="log size for the verify and proof figures")] = 1_000_000,
    out: Annotated[str, typer.Option(help="JSON results file")] = "bench/results/ledger.json",
) -> None:
    """Ledger appends/s vs raw inserts, full verification vs SHA-256, proof times (needs an empty PostgreSQL db)."""
    from aura.bench_ledger import run

    run(appends=appends, entries=entries, out=out)


def main() -> None:
    """Entry point of the `aura` console script."""
    app()


if __name__ == "__main__":
    main()

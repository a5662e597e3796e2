"""The `aura` command: run AURA, manage hospitals, and measure it."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from aura.cli_federations import calibrate_command, federations_app
from aura.cli_ledger import ledger_app, verify_app
from aura.cli_tasks import tasks_app
from shared.settings import get_settings

app = typer.Typer(no_args_is_help=True, pretty_exceptions_enable=False,
                  help="AURA: vets federated-learning model updates.")
hospitals_app = typer.Typer(no_args_is_help=True, help="Manage hospitals and their keys.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks that print their figures.")
app.add_typer(hospitals_app, name="hospitals")
app.add_typer(bench_app, name="bench")
app.add_typer(verify_app, name="verify")
app.add_typer(ledger_app, name="ledger")
app.add_typer(tasks_app, name="tasks")
app.add_typer(federations_app, name="federations")
app.command("calibrate")(calibrate_command)


@hospitals_app.command("keygen")
def hospitals_keygen(out: Annotated[Path, typer.Option(help="where to write the private key (PEM, mode 0600)")]) \
        -> None:
    """Make a hospital's Ed25519 signing key; print the public half for `aura hospitals register-key`."""
    from shared.signing import key_id, new_private_key, private_pem, public_text

    if out.exists():
        raise typer.BadParameter(f"{out} exists: a signing key is never overwritten")
    key = new_private_key()
    out.touch(mode=0o600)
    out.write_bytes(private_pem(key))
    typer.echo(f"key {key_id(key.public_key())}, public key (register it): {public_text(key.public_key())}")


@hospitals_app.command("register-key")
def hospitals_register_key(
    hospital_id: str,
    public_key: Annotated[str, typer.Argument(help="base64 raw key, or a file holding it or a PEM public key")],
) -> None:
    """Register a hospital's Ed25519 public key: its updates signed with the private half verify."""
    from services.intake.signatures import SigningKeyError, register_key
    from shared.db import session_scope
    from shared.signing import SignatureFormatError

    path = Path(public_key)
    text = path.read_text() if len(public_key) < 4096 and path.is_file() else public_key
    with session_scope() as session:
        try:
            row = register_key(session, hospital_id, text)
        except (SignatureFormatError, SigningKeyError) as exc:
            raise typer.BadParameter(str(exc)) from exc
        typer.echo(f"registered key {row.key_id} for hospital {hospital_id}")


@hospitals_app.command("revoke-key")
def hospitals_revoke_key(hospital_id: str, key: Annotated[str, typer.Argument(help="the key id")]) -> None:
    """Revoke a hospital's signing key: updates signed with it are refused from now on."""
    from services.intake.signatures import SigningKeyError, revoke_key
    from shared.db import session_scope

    with session_scope() as session:
        try:
            row = revoke_key(session, hospital_id, key)
        except SigningKeyError as exc:
            raise typer.BadParameter(str(exc)) from exc
        typer.echo(f"key {row.key_id} revoked at {row.revoked_at}")


@app.command()
def migrate() -> None:
    """Bring the database to the newest schema and open round 1 of every task."""
    from shared.bootstrap import prepare

    prepare()
    typer.echo(f"database ready: {get_settings().resolved_database_url}")


@hospitals_app.command("add")
def hospitals_add(
    hospital_id: str,
    name: Annotated[str, typer.Option(help="display name")] = "",
    centre: Annotated[str | None, typer.Option(help="data centre its rows come from (e.g. Hungary)")] = None,
) -> None:
    """Register a hospital and print its API key (shown this once)."""
    from services.gateway.auth import add_hospital
    from shared.db import session_scope

    with session_scope() as session:
        try:
            key = add_hospital(session, hospital_id, name or hospital_id, centre)
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
    """Run the gateway, a worker for all queues and the sweeper on this machine until Ctrl-C.

    A process that exits is restarted with backoff; one that keeps exiting stops AURA with status 1
    and the reason, and a port already taken stops it before it starts (status 2).
    """
    from aura.stack import GaveUp, port_taken, start_stack

    settings = get_settings()
    chosen = port or settings.gateway_port
    if port_taken(settings.gateway_host, chosen):
        typer.echo(f"error: port {chosen} on {settings.gateway_host} is taken (another AURA, or another program); "
                   "choose another with --port", err=True)
        raise typer.Exit(2)
    stack = start_stack(port=port, concurrency=concurrency)
    typer.echo(f"AURA is up: {stack.url}/  (API docs at /docs)")
    typer.echo(f"database {settings.resolved_database_url}, broker {settings.resolved_broker_url}")
    typer.echo(f"admin key: {stack.admin_key}")
    # SIGTERM (docker stop, a test's terminate) must also stop the children: turn it into the
    # same exit path as Ctrl-C, which runs the `finally` below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            stack.supervise_once(say=lambda line: typer.echo(line, err=True))
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    except GaveUp as exc:
        typer.echo(f"error: {exc}; AURA stopped", err=True)
        raise typer.Exit(1) from exc
    finally:
        stop(stack.procs)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Ask each process to stop, then kill the ones that do not within 10 s."""
    from aura.stack import stop_processes

    stop_processes(procs)


@bench_app.command("pipeline")
def bench_pipeline(
    updates: Annotated[int, typer.Option(help="updates to vet")] = 400,
    out: Annotated[str, typer.Option(help="JSON results file")] = "bench/results/pipeline.json",
    postgres: Annotated[str, typer.Option(help="PostgreSQL server (fresh databases are made on it)")] =
    "postgresql+psycopg2://root@127.0.0.1:5432/test",
    redis: Annotated[str, typer.Option(help="Redis server (database 13 is used and flushed)")] =
    "redis://127.0.0.1:6379/0",
    repeats: Annotated[int, typer.Option(help="repeats of the three measurements (medians reported)")] = 3,
) -> None:
    """Vetted updates/s and submit-to-ledger latency on Redis + PostgreSQL, beside empty chains and in-process."""
    from bench.pipeline import run

    run(updates=updates, out=out, pg_server=postgres, redis_server=redis, repeats=repeats)


@bench_app.command("chaos")
def bench_chaos(
    submissions: Annotated[int, typer.Option(help="updates to submit")] = 1000,
    outage: Annotated[float, typer.Option(help="seconds the broker is down")] = 300.0,
    rate: Annotated[float, typer.Option(help="submissions per second")] = 4.0,
    out: Annotated[str, typer.Option(help="JSON results file")] = "bench/results/chaos.json",
) -> None:
    """Submissions through worker kills, Redis and PostgreSQL restarts, a broker outage and a gateway kill.

    It restarts this machine's Redis and PostgreSQL: run it when nothing else uses them.
    """
    from bench.chaos import run

    run(n=submissions, outage_s=outage, rate=rate, out=out)


@bench_app.command("fuzz")
def bench_fuzz(
    requests: Annotated[int, typer.Option(help="requests each stack must answer")] = 50_000,
    stack: Annotated[list[str] | None, typer.Option(help="embedded and/or redis-postgres (default both)")] = None,
    out: Annotated[str, typer.Option(help="JSON results file")] = "bench/results/fuzz.json",
) -> None:
    """schemathesis against every operation of a running AURA (embedded, then Redis + PostgreSQL); counts 5xx."""
    from bench.fuzz import run

    run(requests=requests, out=out, stacks=tuple(stack) if stack else ("embedded", "redis-postgres"))


@app.command()
def demo(
    rounds: Annotated[int, typer.Option(help="federated rounds (FLamby: 15)")] = 15,
    local_steps: Annotated[int, typer.Option(help="local SGD steps per round (FLamby: 100)")] = 100,
    attack: Annotated[str, typer.Option(help="attack name, or none")] = "scaling",
    attacker: Annotated[list[str] | None, typer.Option(help="attacking hospital, repeat for several "
                                                              "(default: Switzerland)")] = None,
    param: Annotated[list[str] | None, typer.Option(help="attack parameter NAME=VALUE (JSON value)")] = None,
    task: Annotated[str, typer.Option(help="model task")] = "heart-logreg",
    strategy: Annotated[str, typer.Option(help="inner Flower strategy")] = "fedavg",
    split: Annotated[int, typer.Option(help="hospitals per centre, 1 to 6 (heart: 4 to 24 hospitals)")] = 1,
    seed: Annotated[int, typer.Option(help="run seed (FLamby: 42-46)")] = 42,
    runner: Annotated[str, typer.Option(help="simulation (Flower's Ray engine) or inprocess")] = "simulation",
    port: Annotated[int, typer.Option(help="gateway port")] = 0,
    exit_: Annotated[bool, typer.Option("--exit", help="stop after the summary instead of serving")] = False,
    summary: Annotated[Path | None, typer.Option(help="write the summary as JSON here")] = None,
) -> None:
    """Start AURA and show it vetting a Fed-Heart-Disease federation with an attacking hospital."""
    import json

    from aura.demo import DemoOptions, demo_config, run_demo

    params = {k: json.loads(v) for k, v in (p.split("=", 1) for p in param or [])}
    try:
        config = demo_config(task=task, rounds=rounds, local_steps=local_steps, attack=attack,
                             attackers=attacker or [], seed=seed, split=split, strategy=strategy,
                             params=params)
    except (ValueError, KeyError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    if runner not in ("simulation", "inprocess"):
        raise typer.BadParameter(f"unknown runner {runner!r}: simulation or inprocess")
    run_demo(DemoOptions(config=config, runner=runner, port=port, exit_after=exit_,  # type: ignore[arg-type]
                         summary_path=summary))


@app.command()
def submit(
    file: Annotated[Path, typer.Argument(help="the update, one safetensors file", exists=True, dir_okay=False)],
    round_: Annotated[int, typer.Option("--round", help="the round this update belongs to")],
    task: Annotated[str | None, typer.Option(help="model task, e.g. heart-mlp (alone: its default federation)")]
    = None,
    federation: Annotated[str | None, typer.Option(help="the federation (its task is implied)")] = None,
    run: Annotated[int | None, typer.Option(help="the federation's run (default: its newest)")] = None,
    key: Annotated[str, typer.Option(envvar="AURA_API_KEY", help="the hospital's API key")] = "",
    url: Annotated[str, typer.Option(help="gateway URL (default: from AURA settings)")] = "",
    num_examples: Annotated[int | None, typer.Option(help="examples trained on")] = None,
    wait: Annotated[float, typer.Option(help="seconds to wait for the verdict (0: do not wait)")] = 0.0,
    signing_key: Annotated[Path | None, typer.Option(envvar="AURA_SIGNING_KEY", dir_okay=False, help=(
        "the hospital's Ed25519 private key (PEM): the update is signed with it"))] = None,
) -> None:
    """Submit a model update to AURA; print the submission (and its verdict with --wait)."""
    from fl.sdk import AuraClient, AuraError, VerdictTimeout
    from shared.signing import SignatureFormatError, load_private_key

    if not key:
        raise typer.BadParameter("no API key: pass --key or set AURA_API_KEY")
    try:
        signer = load_private_key(signing_key) if signing_key is not None else None
    except (OSError, SignatureFormatError) as exc:
        raise typer.BadParameter(f"--signing-key: {exc}") from exc
    settings = get_settings()
    client = AuraClient(url or f"http://{settings.gateway_host}:{settings.gateway_port}", key, signing_key=signer)
    try:
        body = client.submit(file.read_bytes(), task=task, federation=federation, run=run, round=round_,
                             num_examples=num_examples)
        signed = f", signed by key {body['signature']['key']}" if body.get("signature") else ""
        typer.echo(f"submission {body['id']}: {body['status']} (task {body['task']}, federation {body['federation']} "
                   f"run {body['run']}, round {round_}{signed})")
        if wait > 0:
            from fl.vetting import top_reason

            done = client.wait([body["id"]], timeout=wait)[body["id"]]
            typer.echo(f"verdict: {done['verdict']} - {top_reason(done)}")
    except AuraError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    except VerdictTimeout as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except OSError as exc:
        typer.echo(f"error: cannot reach the gateway at {client.url}: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        client.close()


@bench_app.command("ledger")
def bench_ledger(
    appends: Annotated[int, typer.Option(help="verdicts appended through the append function per repeat")] = 2000,
    repeats: Annotated[int, typer.Option(help="append runs; each figure is their median")] = 10,
    entries: Annotated[int, typer.Option(help="log size for the verify and proof figures")] = 1_000_000,
    out: Annotated[str, typer.Option(help="JSON results file")] = "bench/results/ledger.json",
) -> None:
    """Ledger appends/s vs raw inserts, full verification vs SHA-256, proof times (needs an empty PostgreSQL db)."""
    from bench.ledger import run

    run(appends=appends, repeats=repeats, entries=entries, out=out)


@bench_app.command("fingerprint")
def bench_fingerprint(
    task: Annotated[list[str] | None, typer.Option(help="tasks (default the four built-in; repeat)")] = None,
    repeats: Annotated[int, typer.Option(help="timed repeats of AURA's path (the libraries get fewer)")] = 200,
    out: Annotated[str, typer.Option(help="JSON results file")] = "bench/results/fingerprint.json",
) -> None:
    """AURA's attributions vs shap's DeepExplainer and Captum: speed and agreement per task."""
    from bench.fingerprint import DEFAULT_TASKS, run

    run(tuple(task) if task else DEFAULT_TASKS, repeats, out)


@bench_app.command("calibration")
def bench_calibration(
    task: Annotated[str, typer.Option(help="installed task")] = "heart-mlp",
    quick: Annotated[bool, typer.Option(help="one seed, one attacker per attack, 4 hospitals (heart)")] = False,
    seed: Annotated[list[int] | None, typer.Option(help="seeds (default FLamby's 42-46; repeat)")] = None,
    split: Annotated[list[int] | None, typer.Option(help="hospitals per centre (1, 2, 3; repeat)")] = None,
    rounds: Annotated[int, typer.Option(help="rounds of each attacked run")] = 5,
    workers: Annotated[int, typer.Option(help="parallel processes")] = 2,
    every_attacker: Annotated[bool | None, typer.Option(help="each hospital in turn attacks (default: not --quick)")]
    = None,
    name: Annotated[str, typer.Option(help="results file suffix (default: -quick with --quick)")] = "",
) -> None:
    """Recipes other than FLamby's, each calibrated on its own shadow rounds, then attacked: TPR and FPR per recipe."""
    import json

    from bench.grid.recipes import cells_for, run

    seeds = tuple(seed) if seed else ((42,) if quick else (42, 43, 44, 45, 46))
    splits = tuple(split) if split else ((1,) if quick else (1, 3))
    suffix = name or ("-quick" if quick else "")
    records = Path(f"bench/results/calibration-recipes-{task}{suffix}.jsonl")
    rotate = quick if every_attacker is None else not every_attacker
    summary = run(cells_for(task, seeds, splits, rounds, rotate), records, workers)
    out = Path(f"bench/results/calibration-recipes-{task}{suffix}.json")
    out.write_text(json.dumps({"task": task, "seeds": seeds, "splits": splits, "rounds": rounds,
                               "summary": summary}, indent=2) + "\n")
    for recipe, row in summary.get(task, {}).items():
        c = row["calibrated"]
        typer.echo(f"{recipe:12} defaults rejected {row['shadow_rejected_by_defaults']}/{row['shadow_updates']} "
                   f"honest shadow updates; calibrated TPR {c['tpr']} FPR {c['fpr']}")
    typer.echo(f"wrote {out}")


@bench_app.command("detection")
def bench_detection(
    quick: Annotated[bool, typer.Option(help="seed 42, 4 hospitals, fewer runs (heart: the MLP, about 15 min)")]
    = False,
    seed: Annotated[list[int] | None, typer.Option(help="seeds (default FLamby's 42-46; repeat)")] = None,
    task: Annotated[str | None, typer.Option(help="one installed task, written to detection-TASK.json "
                                                  "(default: both heart models, detection.json)")] = None,
    defence: Annotated[list[str] | None, typer.Option(help="defences (default all; repeat)")] = None,
    workers: Annotated[int, typer.Option(help="parallel processes")] = 2,
    report_only: Annotated[bool, typer.Option(help="summarise the runs already done, run nothing")] = False,
) -> None:
    """AURA vs Flower's robust aggregators: detection, accuracy, backdoor success."""
    from dataclasses import replace

    from bench.detection import Options, quick_options, run_detection, task_options

    if task is not None:
        from shared.modeltask.registry import get_task

        try:
            get_task(task)
        except KeyError as exc:
            typer.echo(f"error: {exc.args[0]}", err=True)
            raise typer.Exit(2) from exc
        options = task_options(task, quick=quick)
    else:
        options = quick_options() if quick else Options()
    options = replace(options, workers=workers, run=not report_only, seeds=tuple(seed) if seed else options.seeds,
                      defences=tuple(defence) if defence else options.defences)
    run_detection(options)


def main() -> None:
    """Entry point of the `aura` console script: a database problem is one line saying what to do."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        app()
    except (OperationalError, ProgrammingError) as exc:
        typer.echo(f"error: {database_problem(exc)}", err=True)
        sys.exit(1)


def database_problem(exc: Exception) -> str:
    """What a database error means to someone at the command line, and what to run."""
    text = str(getattr(exc, "orig", exc))
    url = get_settings().resolved_database_url
    shown = url.rsplit("@", 1)[-1] if "@" in url else url  # no credentials on the screen
    if "no such table" in text or ("does not exist" in text and "relation" in text):
        return f"the database {shown} has no AURA schema yet: run `aura migrate` first"
    return f"cannot use the database {shown} ({text.strip().splitlines()[0]}): is it running, and is " \
           "AURA_DATABASE_URL right?"


if __name__ == "__main__":
    main()

"""`aura federations` and `aura calibrate`: consortia, their runs, and their detector calibration."""

from __future__ import annotations

import json
from typing import Annotated

import typer

federations_app = typer.Typer(no_args_is_help=True, help="Federations (consortia) and their runs.")


def parse_rounds(text: str) -> list[int]:
    """'1-3,5' -> [1, 2, 3, 5]."""
    rounds: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        try:
            rounds += list(range(int(first), int(last or first) + 1))
        except ValueError:
            raise typer.BadParameter(f"rounds look like 1-3,5, not {text!r}") from None
    return rounds


@federations_app.command("add")
def add(
    federation_id: str,
    task: Annotated[str, typer.Option(help="the installed task it trains")],
    name: Annotated[str, typer.Option(help="display name")] = "",
    recipe: Annotated[str, typer.Option(help='training recipe as JSON, e.g. {"lr": 0.05, "local_epochs": 2}')] = "{}",
    calibration_rounds: Annotated[int, typer.Option(help="run 1's first rounds you vouch are honest")] = 0,
    require_signatures: Annotated[bool, typer.Option(help="refuse updates not signed by their hospital's key")]
    = False,
) -> None:
    """Create a federation (its run 1 starts with no round open)."""
    from shared.db import session_scope
    from shared.federations import FederationError, ensure_federation
    from shared.models import Federation

    with session_scope() as session:
        if session.get(Federation, federation_id) is not None:
            raise typer.BadParameter(f"federation {federation_id!r} exists")
        try:
            ensure_federation(session, federation_id, task, name=name or federation_id, recipe=json.loads(recipe),
                              calibration_rounds=calibration_rounds, require_signatures=require_signatures)
        except (FederationError, KeyError, json.JSONDecodeError) as exc:
            raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"federation {federation_id} ({task}): run 1")


@federations_app.command("set")
def change(
    federation_id: str,
    require_signatures: Annotated[bool | None, typer.Option(
        "--require-signatures/--no-require-signatures", help="refuse updates not signed by their hospital's key")]
    = None,
) -> None:
    """Change a federation's settings (from the next upload on)."""
    from shared.db import session_scope
    from shared.federations import FederationError, get_federation

    with session_scope() as session:
        try:
            federation = get_federation(session, federation_id)
        except FederationError as exc:
            raise typer.BadParameter(exc.message) from exc
        if require_signatures is not None:
            federation.require_signatures = require_signatures
        rule = "required" if federation.require_signatures else "optional"
        typer.echo(f"federation {federation_id}: signatures {rule}")


@federations_app.command("run")
def start_run(
    federation_id: str,
    calibration_rounds: Annotated[int, typer.Option(help="its first rounds you vouch are honest")] = 0,
) -> None:
    """Start the federation's next run and print its number."""
    from shared.db import session_scope
    from shared.federations import FederationError, new_run

    with session_scope() as session:
        try:
            typer.echo(new_run(session, federation_id, calibration_rounds))
        except FederationError as exc:
            raise typer.BadParameter(exc.message) from exc


@federations_app.command("list")
def list_federations() -> None:
    """Each federation: task, runs, rounds, calibration in force."""
    from sqlalchemy import select

    from services.detector.calibrate import calibration_for
    from shared.db import session_scope
    from shared.federations import Scope, latest_run, rounds_of
    from shared.models import Federation

    with session_scope() as session:
        for federation in session.scalars(select(Federation).order_by(Federation.id)):
            runs = range(1, latest_run(session, federation.id) + 1)
            shown = "; ".join(f"run {r}: rounds {rounds_of(session, Scope(federation.id, r)) or 'none'}" for r in runs)
            typer.echo(f"{federation.id} ({federation.task}) {shown}; calibration: "
                       f"{calibration_for(session, federation.id, federation.task).name}")


def calibrate_command(
    federation_id: Annotated[str, typer.Argument(help="the federation")],
    rounds: Annotated[str, typer.Option(help="rounds whose updates you vouch are honest, e.g. 1-3")],
    run: Annotated[int, typer.Option(help="the run they belong to")] = 1,
    note: Annotated[str, typer.Option(help="why these rounds are honest (kept with the calibration)")] = "",
) -> None:
    """Fit the federation's detector thresholds to its honest updates; verdicts from then on name this calibration."""
    from services.detector.calibrate import calibrate
    from services.ledger.service import append_calibration
    from shared.db import session_scope
    from shared.federations import FederationError

    with session_scope() as session:
        try:
            row = calibrate(session, federation_id, run, parse_rounds(rounds), note)
        except FederationError as exc:
            raise typer.BadParameter(exc.message) from exc
        index = append_calibration(session, row).index
        typer.echo(f"{row.name}: fitted from {row.source['updates']} updates of run {run}, rounds {rounds}; "
                   f"ledger entry {index}")
        for signal, entry in row.fitted["rules"].items():
            fine, bad = entry["bounds"]
            default = entry["default"]
            moved = "" if [fine, bad] == default else f" (default {default[0]:.4g} .. {default[1]:.4g})"
            extreme = entry["honest_extreme"]
            seen = f"honest extreme {extreme:.4g}" if extreme is not None else entry.get("kept_default", "")
            typer.echo(f"  {signal:18} fine {fine:.4g}, bad {bad:.4g}{moved}; {seen}")
        scale = row.fitted["honest_scale"]
        typer.echo(f"  update scale reference {scale:.4g}" if scale is not None else "  update scale: no reference")

"""`aura verify ...` (offline: no database, no server) and `aura ledger ...` (operator side)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from services.ledger.verify_offline import VerificationFailed

verify_app = typer.Typer(no_args_is_help=True,
                         help="Check receipts, checkpoints and exports offline: no database, no server needed.")
ledger_app = typer.Typer(no_args_is_help=True, help="Operate the verdict ledger: checkpoints, exports, audits.")

KeyOption = Annotated[str, typer.Option("--key", help="the log's public key (vkey text, or a file holding it "
                                                      "or the JSON of GET /api/v1/ledger/key)")]
OriginOption = Annotated[str | None, typer.Option(help="require this log origin in the checkpoints")]


def _key(value: str) -> str:
    path = Path(value)
    text = path.read_text().strip() if path.is_file() else value.strip()
    return str(json.loads(text)["vkey"]) if text.startswith("{") else text


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(f"{path}: {exc}") from exc


def _note(path: Path) -> bytes:
    """A checkpoint note from a file: the note text itself, or the JSON of GET /api/v1/ledger/checkpoint."""
    data = path.read_bytes()
    if data.lstrip().startswith(b"{"):
        return str(_json(path)["note"]).encode()
    return data


def _fail(exc: VerificationFailed) -> typer.Exit:
    typer.echo(f"FAILED: {exc}", err=True)
    return typer.Exit(1)


@verify_app.command("receipt")
def verify_receipt_cmd(file: Path, key: KeyOption, origin: OriginOption = None) -> None:
    """Check a receipt: the entry is in the tree its checkpoint signs, under the log's key."""
    from services.ledger.verify_offline import verify_receipt

    try:
        check = verify_receipt(_json(file), _key(key), origin)
    except VerificationFailed as exc:
        raise _fail(exc) from exc
    typer.echo(f"OK: submission {check.submission_id} (verdict {check.verdict}) is entry {check.index} "
               f"of the signed tree of {check.tree_size} entries")


@verify_app.command("consistency")
def verify_consistency_cmd(
    old_checkpoint: Path,
    new_checkpoint: Path,
    proof: Annotated[Path, typer.Option(help="JSON of GET /api/v1/ledger/proofs/consistency (or a list of hashes)")],
    key: KeyOption,
    origin: OriginOption = None,
) -> None:
    """Check that a newer signed checkpoint extends an older one: the log was not rewritten in between."""
    from services.ledger.verify_offline import decode_hashes, verify_consistency_notes

    document = _json(proof)
    hashes = document["proof"] if isinstance(document, dict) else document
    try:
        old, new = verify_consistency_notes(_note(old_checkpoint), _note(new_checkpoint), decode_hashes(hashes),
                                            _key(key), origin)
    except VerificationFailed as exc:
        raise _fail(exc) from exc
    typer.echo(f"OK: the signed tree of {new.size} entries extends the signed tree of {old.size} entries")


@verify_app.command("export")
def verify_export_cmd(folder: Path, key: KeyOption, origin: OriginOption = None) -> None:
    """Recompute an export from `aura ledger export`: every entry, the hash chain and every signed root."""
    from services.ledger.verify_offline import verify_export

    try:
        check = verify_export(folder, _key(key), origin)
    except (VerificationFailed, OSError) as exc:
        raise _fail(VerificationFailed(str(exc))) from exc
    if not check.ok:
        typer.echo(f"FAILED at entry {check.first_bad_index}: {check.problem}", err=True)
        raise typer.Exit(1)
    uncovered = check.size - check.checkpoint_size
    note = f" ({uncovered} newer entries not yet signed)" if uncovered else ""
    typer.echo(f"OK: {check.size} entries recomputed; {check.checkpoints} signed checkpoints match, the largest "
               f"covering {check.checkpoint_size}{note}")


@ledger_app.command("export")
def ledger_export_cmd(
    folder: Path,
    checkpoint: Annotated[bool, typer.Option(help="sign a checkpoint of the whole log first")] = True,
) -> None:
    """Write the log (entries, checkpoints, manifest) to FOLDER for offline verification."""
    from services.ledger.checkpoints import publish_checkpoint
    from services.ledger.export import export_ledger
    from shared.db import session_scope

    if checkpoint:
        with session_scope() as session:
            publish_checkpoint(session)
    with session_scope() as session:
        summary = export_ledger(session, folder)
    typer.echo(f"exported {summary.entries} entries and {summary.checkpoints} checkpoints (largest covers "
               f"{summary.checkpoint_size}) to {folder}")


@ledger_app.command("checkpoint")
def ledger_checkpoint_cmd() -> None:
    """Sign a checkpoint of the whole log now (if it grew) and print it."""
    from services.ledger.checkpoints import publish_checkpoint
    from shared.db import session_scope

    with session_scope() as session:
        latest = publish_checkpoint(session)
    typer.echo(latest.note if latest else "the log is empty: nothing to sign")


@ledger_app.command("key")
def ledger_key_cmd() -> None:
    """Print the log's public key (vkey), which hospitals pin for `aura verify --key`."""
    from services.ledger.keys import log_config

    typer.echo(log_config().vkey)


@ledger_app.command("verify")
def ledger_verify_cmd() -> None:
    """Recompute the stored log against its nodes and every signed checkpoint."""
    from services.ledger.audit import verify
    from shared.db import session_scope

    with session_scope() as session:
        report = verify(session)
    if not report.ok:
        typer.echo(f"FAILED at entry {report.first_bad_index}: {report.problem}", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: {report.size} entries; {report.checkpoints_checked} checkpoints match, the largest covering "
               f"{report.checkpoint_size or 0}")

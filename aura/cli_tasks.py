"""`aura tasks`: which task plugins are installed, and whether one works."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Annotated, Any

import numpy as np
import typer

tasks_app = typer.Typer(no_args_is_help=True, help="Installed model tasks (plugins of the aura.tasks entry point).")


def schema_digest(tensors: list[tuple[str, tuple[int, ...]]]) -> str:
    """SHA-256 of the schema's names and shapes (sorted): two installs agree on a task's updates iff these agree."""
    canonical = json.dumps(sorted([name, list(shape)] for name, shape in tensors), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@tasks_app.command("list")
def list_tasks() -> None:
    """Each installed task: parameters, schema digest, golden rows, where it came from; then plugins that failed."""
    from shared.modeltask.registry import registry

    found = registry()
    for name, task in sorted(found.tasks.items()):
        tensors = [(t.name, t.shape) for t in task.schema.tensors]
        typer.echo(f"{name}\n  {task.description}\n  parameters {task.parameter_count:,} in {len(tensors)} tensors; "
                   f"schema sha256 {schema_digest(tensors)[:16]}\n  objective {task.objective.name}; "
                   f"from {found.sources[name]}")
    for source, error in sorted(found.errors.items()):
        typer.echo(f"failed to load: {source}\n  {error}", err=True)
    if found.errors:
        raise typer.Exit(1)


def _check(name: str, what: str, step: Callable[[], Any], problems: list[str]) -> Any:
    started = time.perf_counter()
    try:
        result = step()
    except Exception as exc:
        problems.append(f"{what}: {type(exc).__name__}: {exc}")
        typer.echo(f"  FAIL {what}: {type(exc).__name__}: {exc}")
        return None
    typer.echo(f"  ok   {what} ({time.perf_counter() - started:.2f} s)")
    return result


def check_task(name: str) -> list[str]:
    """Run a task plugin's checks, printing each; returns the problems found (empty when it works)."""
    import torch

    from services.fingerprinter.attributions import Explainer
    from shared.modeltask.registry import get_task, registry
    from shared.tensors import dump_arrays, load_arrays, parse_header

    if name not in registry().tasks:
        known = ", ".join(sorted(registry().tasks))
        failed = "".join(f"\n  {src}: {err}" for src, err in registry().errors.items())
        return [f"no installed task {name!r} (installed: {known or 'none'}){failed}"]
    task = get_task(name)
    problems: list[str] = []
    typer.echo(f"checking {name}")
    schema = _check(name, "schema derivable from the module", lambda: task.schema, problems)
    if schema is not None and not schema.tensors:
        problems.append("the module has no floating-point parameters")
    weights = _check(name, "initial weights round-trip through safetensors", lambda: load_arrays(
        data := dump_arrays(task.initial_weights()), parse_header(data, max_header_bytes=1 << 24)), problems)
    golden = _check(name, "golden set loads", lambda: task.golden, problems)
    if golden is not None:
        if len(golden) < task.probe_size + task.background_size:
            problems.append(f"golden set has {len(golden)} rows; probe + background need "
                            f"{task.probe_size + task.background_size}")
        if not np.isfinite(golden.x).all():
            problems.append("golden set holds NaN or infinite inputs")
    if weights is not None and golden is not None:
        metrics = _check(name, "model runs a batch and the objective scores it",
                         lambda: task.metrics(weights, np.arange(len(golden)) < 32), problems)
        if metrics is not None and (metrics.get("loss") is None or "accuracy" not in metrics):
            problems.append(f"metrics must include a finite loss and accuracy, got {metrics}")
        _check(name, "attributions run on probe and background rows", lambda: Explainer(
            task.build(), task.objective, task.probe.x, task.probe.y, task.background)(
            {k: torch.from_numpy(v) for k, v in weights.items()}), problems)
    return problems


@tasks_app.command("check")
def check(name: Annotated[str, typer.Argument(help="task name, as `aura tasks list` shows it")]) -> None:
    """Validate a task plugin: schema derivable, golden set loads, model runs a batch, attributions run."""
    problems = check_task(name)
    for problem in problems:
        typer.echo(f"problem: {problem}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{name}: ok")

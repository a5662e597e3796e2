"""`aura demo`: start AURA, run a Fed-Heart-Disease federation with an attacker, show AURA working.

Three federations with the same seed: vetted by AURA under attack, plain FedAvg under the same
attack, plain FedAvg without it. The vetted one runs on Flower's simulation engine by default
and is drawn live; the two baselines need no AURA and run in-process (the same numbers as the
simulation engine, see tests/fl/test_runners.py).
"""

from __future__ import annotations

import json
import logging
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from aura.demo_display import RoundDisplay
from aura.stack import Stack, start_stack
from fl import task as fl_task
from fl.config import AttackSpec, FederationConfig
from fl.enrol import enrol, operator_key, revoke
from fl.federation import AuraLink, FederationResult
from fl.runners import Runner, run
from fl.sdk import AuraClient
from shared.settings import get_settings


@dataclass(frozen=True)
class DemoOptions:
    """What `aura demo` runs."""

    config: FederationConfig
    runner: Runner = "simulation"
    port: int = 0
    exit_after: bool = False
    summary_path: Path | None = None
    verdict_timeout: float = 180.0


def _port_taken(host: str, port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((host, port)) == 0


def _quiet_libraries() -> None:
    # Flower and Ray log every round at INFO; the demo's own display says what matters.
    for name in ("flwr", "ray", "httpx"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the demo like Ctrl-C: AURA's processes are stopped too


def summarise(options: DemoOptions, vetted: FederationResult, attacked: FederationResult,
              clean: FederationResult, ledger: dict[str, Any], stack: Stack) -> dict[str, Any]:
    """The demo's outcome as JSON-able data (what `--summary FILE` writes)."""
    config = options.config
    return {
        "task": config.task, "runner": options.runner, "seed": config.seed, "rounds": config.rounds,
        "local_steps": config.local_steps, "hospitals": [h.name for h in config.hospitals],
        "attack": config.attacks[0].attack if config.attacks else None,
        "attackers": [a.hospital for a in config.attacks],
        "attack_params": {a.hospital: a.params for a in config.attacks},
        "per_round": [
            {"round": r.round, "aura_round": r.aura_round, "accuracy": r.metrics["pooled_accuracy"],
             "plain_accuracy": r.plain_metrics["pooled_accuracy"] if r.plain_metrics else None,
             "verdicts": {v["hospital"]: {"verdict": v["verdict"], "reason": v["reason"],
                                          "submission_id": v["submission_id"]} for v in r.verdicts}}
            for r in vetted.rounds],
        "final_accuracy": {"with_aura": vetted.final_metrics["pooled_accuracy"],
                           "fedavg_under_attack": attacked.final_metrics["pooled_accuracy"],
                           "fedavg_no_attack": clean.final_metrics["pooled_accuracy"]},
        "final_metrics": {"with_aura": vetted.final_metrics, "fedavg_under_attack": attacked.final_metrics,
                          "fedavg_no_attack": clean.final_metrics},
        "ledger_verified": bool(ledger.get("ok")), "ledger_size": ledger.get("size"),
        "dashboard": f"{stack.url}/", "seconds": {"with_aura": vetted.seconds, "fedavg_under_attack": attacked.seconds,
                                                  "fedavg_no_attack": clean.seconds},
    }


def _verdict_counts(summary: dict[str, Any]) -> tuple[int, int, int, int]:
    attackers = set(summary["attackers"])
    verdicts = [(h, v["verdict"]) for r in summary["per_round"] for h, v in r["verdicts"].items()]
    bad = [v for h, v in verdicts if h in attackers]
    good = [v for h, v in verdicts if h not in attackers]
    return bad.count("rejected"), len(bad), good.count("accepted"), len(good)


def print_summary(console: Console, summary: dict[str, Any], stack: Stack) -> None:
    """The closing block: accuracies side by side, verdict counts, ledger, where to look next."""
    table = Table(title="Final global model, pooled test set of the four centres", title_justify="left")
    for column in ("", "accuracy", "mean of centres", "backdoor success"):
        table.add_column(column, justify="right" if column else "left")
    names = {"with_aura": "FedAvg + AURA, under attack", "fedavg_under_attack": "FedAvg, under attack",
             "fedavg_no_attack": "FedAvg, no attack"}
    for key, label in names.items():
        m = summary["final_metrics"][key]
        table.add_row(label, f"{m['pooled_accuracy']:.3f}", f"{m['mean_centre_accuracy']:.3f}",
                      f"{m['backdoor_asr']:.3f}")
    caught, attacks, kept, honest = _verdict_counts(summary)
    settings = get_settings()
    lines = [
        f"attack: {summary['attack']} by {', '.join(summary['attackers']) or 'nobody'}; "
        f"AURA rejected {caught} of {attacks} malicious updates and accepted {kept} of {honest} honest ones",
        f"ledger: {'verified' if summary['ledger_verified'] else 'VERIFICATION FAILED'} "
        f"({summary['ledger_size']} entries, POST /api/v1/ledger/verify)",
        f"dashboard: {stack.url}/   API docs: {stack.url}/docs   admin key: {stack.admin_key}",
        f"evidence: each verdict's reasons, metrics and fingerprint at {stack.url}/api/v1/submissions/<id> "
        f"(ids in the summary); state in {settings.data_dir.resolve()} (logs in logs/)",
    ]
    console.print(table)
    console.print(Panel("\n".join(lines), title="AURA demo", expand=False))


def run_demo(options: DemoOptions, console: Console | None = None) -> dict[str, Any]:
    """Start AURA, run the three federations, verify the ledger; keep serving unless `exit_after`."""
    console = console or Console()
    _quiet_libraries()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored (nohup, &)
    settings = get_settings()
    port = options.port or settings.gateway_port
    if _port_taken(settings.gateway_host, port):
        raise SystemExit(f"port {port} on {settings.gateway_host} is already in use; pass --port")
    config = options.config
    with console.status("starting AURA (database, gateway, worker, sweeper)…"):
        stack = start_stack(port=port, quiet=True)
    try:
        stack.wait_ready()
        console.print(f"AURA is up at [bold]{stack.url}/[/bold] ({settings.resolved_database_url})")
        keys = enrol(config.hospitals)
        operator = operator_key()
        link = AuraLink(stack.url, operator, keys, options.verdict_timeout)
        attackers = {a.hospital for a in config.attacks}
        console.print(f"{len(keys)} hospitals, {config.rounds} rounds x {config.local_steps} local steps, "
                      f"{config.strategy}; attacker: {', '.join(sorted(attackers)) or 'none'} "
                      f"({', '.join(a.attack for a in config.attacks) or '-'}); runner: {options.runner}")
        started = time.monotonic()
        with RoundDisplay(console, config.rounds, [h.name for h in config.hospitals], attackers) as display:
            vetted = run(config, runner=options.runner, aura=link, observer=display)
        console.print(f"federated run with AURA took {time.monotonic() - started:.0f} s")
        revoke([*keys.values(), operator])
        with console.status("the same federation without AURA, with and without the attack…"):
            attacked = run(config, runner="inprocess")
            clean = run(config.without_attacks(), runner="inprocess")
        ledger = AuraClient(stack.url, stack.admin_key).verify_ledger()
        summary = summarise(options, vetted, attacked, clean, ledger, stack)
        print_summary(console, summary, stack)
        if options.summary_path is not None:
            options.summary_path.write_text(json.dumps(summary, indent=1))
            console.print(f"summary written to {options.summary_path}")
        if not options.exit_after:
            console.print("AURA keeps serving; press Ctrl-C to stop.")
            console.file.flush()  # stdout may be a file or pipe: show the summary now, not at exit
            while stack.alive():
                time.sleep(0.5)
        return summary
    except KeyboardInterrupt:
        console.print("stopping AURA…")
        return {}
    finally:
        stack.stop()


def demo_config(*, task: str, rounds: int, local_steps: int, attack: str, attackers: list[str], seed: int,
                split: int, strategy: str, params: dict[str, Any]) -> FederationConfig:
    """The demo's federation config from its command-line options (default attacker: Switzerland's first)."""
    if not attackers:
        attackers = [next(h.name for h in fl_task.hospitals(task, split) if h.centre == "Switzerland")]
    specs = tuple(AttackSpec(h, attack, dict(params)) for h in attackers) if attack != "none" else ()
    return FederationConfig(task=task, rounds=rounds, local_steps=local_steps, seed=seed, split=split,
                            strategy=strategy, attacks=specs)

"""The demo's live view: a progress bar over the rounds and each round's verdicts as they arrive."""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from fl.federation import RoundResult
from fl.vetting import HospitalVerdict

STYLE = {"accepted": "green", "rejected": "bold red"}
MARK = {"accepted": "✓", "rejected": "✗"}


def verdict_text(verdict: str) -> Text:
    """A verdict in its colour (anything but accepted/rejected shows in yellow: it failed closed)."""
    return Text(f"{MARK.get(verdict, '!')} {verdict}", style=STYLE.get(verdict, "yellow"))


class RoundDisplay:
    """Observer of an AURA-vetted run that draws it with rich (thread-safe: Flower calls from its thread)."""

    def __init__(self, console: Console, rounds: int, hospitals: list[str], attackers: set[str]) -> None:
        self.console = console
        self.hospitals = hospitals
        self.attackers = attackers
        self.progress = Progress(TextColumn("[bold]Federated training with AURA"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("rounds"), TimeElapsedColumn(), console=console)
        self.bar = self.progress.add_task("rounds", total=rounds)
        self.current: dict[str, HospitalVerdict] = {}
        self.current_round = 1
        self.lock = threading.Lock()
        self.live = Live(self._render(), console=console, refresh_per_second=8, transient=True)

    def __enter__(self) -> RoundDisplay:
        self.live.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.live.__exit__(kind, error, trace)

    def _name(self, hospital: str) -> Text:
        return Text(hospital + (" (attacker)" if hospital in self.attackers else ""),
                    style="bold" if hospital in self.attackers else "")

    def _render(self) -> Group:
        table = Table(title=f"round {self.current_round}: verdicts so far", title_justify="left", expand=False)
        table.add_column("hospital")
        table.add_column("verdict")
        table.add_column("top reason", overflow="fold", max_width=90)
        for hospital in self.hospitals:
            v = self.current.get(hospital)
            table.add_row(self._name(hospital), verdict_text(v.verdict) if v else Text("vetting…", style="dim"),
                          v.reason if v else "")
        return Group(self.progress, table)

    def verdict(self, server_round: int, verdict: HospitalVerdict) -> None:
        """Show one verdict in the current round's table."""
        with self.lock:
            if server_round != self.current_round:
                self.current_round, self.current = server_round, {}
            self.current[verdict.hospital] = verdict
            self.live.update(self._render())

    def round_done(self, result: RoundResult) -> None:
        """Print the finished round above the live view and advance the bar."""
        with self.lock:
            line = Text(f"round {result.round:>2}", style="bold")
            line.append(f"  (AURA round {result.aura_round})", style="dim")
            for v in sorted(result.verdicts, key=lambda d: d["hospital"]):
                line.append("\n   ")
                line.append(f"{v['hospital']:<16}")
                line.append_text(verdict_text(v["verdict"]))
                line.append(f"  {v['reason']}", style="dim")
            plain = result.plain_metrics["pooled_accuracy"] if result.plain_metrics else None
            line.append(f"\n   global accuracy {result.metrics['pooled_accuracy']:.3f}")
            if plain is not None:
                line.append(f"  (had every update been averaged this round: {plain:.3f})", style="dim")
            self.console.print(line)
            self.current_round, self.current = result.round + 1, {}
            self.progress.update(self.bar, completed=result.round)
            self.live.update(self._render())

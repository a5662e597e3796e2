"""bench/results/detection.md: the benchmark's tables, goals and figures, from the summary document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.grid import plots
from bench.grid.ablation import THRESHOLD
from bench.grid.grid import NO_ATTACK
from bench.grid.report_text import DESIGN, JSON_LAYOUT, SETUP, TRIED


def _pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}"


def _rate(c: dict[str, Any]) -> str:
    return f"{_pct(c.get('tpr'))} / {_pct(c.get('fpr'), 2)}"


def _brief(value: Any) -> str:
    """A goal's measured value in a few words (fractions as %)."""
    if not isinstance(value, dict):
        return str(value)
    parts = []
    for key, v in value.items():
        if isinstance(v, float) and ("gap" in key or "margin" in key):
            parts.append(f"{key} {100 * v:+.1f} points")
        elif isinstance(v, float):
            parts.append(f"{key} {100 * v:.2f}%" if abs(v) <= 1.0 else f"{key} {v:.3f}")
        elif isinstance(v, dict):
            parts.append(f"{key} " + ", ".join(f"{k} {100 * x:+.1f}" for k, x in v.items() if isinstance(x, float)))
        elif v is not None:
            parts.append(f"{key} {v}")
    return "; ".join(parts)


def _processes(workers: int) -> str:
    return "one process" if workers <= 1 else f"{workers} parallel processes"


def _headline(task: str, t: dict[str, Any]) -> list[str]:
    det = t["detection"].get("overall", {})
    lines = [f"### {task}", "",
             "| defence | no attack | mean under attack | worst case (attack / attackers) | worst attack "
             "| backdoor ASR mean / max | TPR / FPR |",
             "|---|---|---|---|---|---|---|"]
    for name, s in t["defences"].items():
        worst = s.get("worst_case") or {}
        worst_attack = s.get("worst_attack") or {}
        asr = s.get("backdoor_asr") or {}
        rates = _rate(det) if name == "aura" and det else "-"
        worst_text = (f"{_pct(worst.get('accuracy'))} ({worst.get('attack')} / {worst.get('attackers')})"
                      if worst else "cannot run under attack")
        lines.append(f"| {name} | {_pct(s['no_attack']['pooled_accuracy'])} | "
                     f"{_pct(s.get('mean_accuracy_under_attack'))} | {worst_text} | "
                     f"{_pct(worst_attack.get('accuracy'))} ({worst_attack.get('attack', '-')}) | "
                     f"{_pct(asr.get('mean'))} / {_pct(asr.get('max'))} | {rates} |")
    return [*lines, ""]


def _goals(t: dict[str, Any]) -> list[str]:
    lines = ["| goal | measured | met |", "|---|---|---|"]
    for g in t["goals"]:
        value = json.dumps(g["value"], default=lambda v: round(v, 4) if isinstance(v, float) else str(v))
        lines.append(f"| {g['goal']} | `{value}` | {'yes' if g['met'] else '**no**'} |")
    return [*lines, ""]


def _by_attack(t: dict[str, Any]) -> list[str]:
    attacks = sorted({a for s in t["defences"].values() for a in s["accuracy_by_attack"]})
    lines = ["| defence | " + " | ".join([NO_ATTACK, *attacks]) + " |", "|---" * (len(attacks) + 2) + "|"]
    for name, s in t["defences"].items():
        row = [_pct(s["no_attack"]["pooled_accuracy"])] + [_pct(s["accuracy_by_attack"].get(a)) for a in attacks]
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    return [*lines, ""]


def _detection(t: dict[str, Any]) -> list[str]:
    det = t["detection"]
    if not det:
        return ["No AURA runs in this selection.", ""]
    o = det["overall"]
    lines = [f"All {o['tp'] + o['fp'] + o['tn'] + o['fn']} updates AURA vetted: TP {o['tp']}, FP {o['fp']}, "
             f"TN {o['tn']}, FN {o['fn']}; TPR {_pct(o['tpr'])}%, FPR {_pct(o['fpr'], 2)}%, AUROC of the score "
             f"{o['auroc']:.3f}; best TPR of any threshold at FPR <= 2%: {_pct(o['best_tpr_at_fpr_0.02'])}%. "
             f"Without round 1 (no federation history yet): TPR {_pct(det['excluding_round_1']['tpr'])}%, "
             f"FPR {_pct(det['excluding_round_1']['fpr'], 2)}%. Rejections: {det['rejections']}, of which "
             f"{det['unexplained_rejections']} without ranked reasons with numbers.", "",
             "| attack | TPR / FPR (%) |", "|---|---|"]
    lines += [f"| {a} | {_rate(c)} |" for a, c in det["by_attack"].items()]
    lines += ["", "Honest updates rejected, per hospital (FPR %):", "",
              "| hospital | honest updates | rejected | FPR |", "|---|---|---|---|"]
    for h, c in det["honest_by_hospital"].items():
        n = c["fp"] + c["tn"]
        lines.append(f"| {h} | {n} | {c['fp']} | {_pct(c['fpr'], 2)} |")
    weak = {k: c for k, c in det["by_cell"].items() if c["tpr"] is not None and c["tpr"] < 0.95}
    lines += ["", f"Attack / attacker cells where AURA's TPR is below 95% ({len(weak)} of {len(det['by_cell'])}):", "",
              "| cell | TPR / FPR (%) |", "|---|---|"]
    lines += [f"| {k} | {_rate(c)} |" for k, c in weak.items()]
    lines += ["", "Signal that ranked first in each rejection: "
              + ", ".join(f"{k} {v}" for k, v in det["top_signal_of_rejections"].items()), ""]
    return lines


def _ablation(t: dict[str, Any]) -> list[str]:
    lines = ["| signals | TPR % | FPR % | AUROC |", "|---|---|---|---|"]
    for name, c in t["ablation"].items():
        area = "n/a" if c["auroc"] is None else f"{c['auroc']:.3f}"
        lines.append(f"| {name} | {_pct(c['tpr'])} | {_pct(c['fpr'], 2)} | {area} |")
    return [*lines, ""]


def _figures(document: dict[str, Any], folder: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for task, t in document["tasks"].items():
        stem = task.replace("heart-", "")
        names = [f"detection-accuracy-{stem}.png", f"detection-scores-{stem}.png", f"detection-centres-{stem}.png"]
        plots.accuracy_by_attack(task, t["defences"], folder / names[0])
        rows = [u for r in document["runs"] if r["task"] == task and r["defence"] == "aura"
                for u in r.get("updates", [])]
        plots.score_distribution(task, [u[3] for u in rows if not u[2]], [u[3] for u in rows if u[2]], THRESHOLD,
                                 folder / names[1])
        plots.centre_accuracy(task, t["defences"], folder / names[2])
        out[task] = names
    return out


def render(document: dict[str, Any], figures: dict[str, list[str]]) -> str:
    """The report as Markdown."""
    meta = document["meta"]
    lines = ["# Detection quality: AURA against Flower's robust aggregators (Fed-Heart-Disease)", "",
             f"Generated by `aura bench detection` from `{meta.get('json', 'bench/results/detection.json')}` "
             f"({meta['generated']}).", "",
             "## What ran", "",
             f"{meta['ok']} federated runs finished (plus {meta['not_applicable']} cells Bulyan cannot run: it "
             "needs n >= 4f + 3 hospitals, i.e. 7 for one attacker among 4 and 11 for two among 8; it runs only "
             f"without attack). Tasks {', '.join(meta['tasks'])}; seeds {', '.join(map(str, meta['seeds']))}; "
             f"attacks {', '.join(meta['attacks'])}; defences {', '.join(meta['defences'])}. The runs took "
             f"{meta['run_seconds_total'] / 3600:.1f} process-hours in {_processes(meta.get('workers', 2))}, "
             f"{meta.get('wall_seconds_first_to_last_run', 0) / 60:.0f} min of wall time from the first "
             "run's start to the last run's end.", "",
             SETUP, "", "## Headline", "",
             "Accuracy is the final global model's accuracy on the pooled test set, in %, averaged over seeds "
             "(and attackers). Worst case: the lowest accuracy over all attack / attacker cells. TPR / FPR: "
             "AURA's per-update detection over every update it vetted, honest updates of every hospital included.",
             ""]
    for task, t in document["tasks"].items():
        lines += _headline(task, t)
    lines += ["### Goals at a glance", ""]
    for task, t in document["tasks"].items():
        for g in t["goals"]:
            lines.append(f"- {task}: {g['goal']}: **{'met' if g['met'] else 'not met'}** ({_brief(g['value'])})")
    lines.append("")
    for task, t in document["tasks"].items():
        lines += [f"## {task}", "", "### Goals", "", *_goals(t), "### Accuracy by attack (%)", "", *_by_attack(t),
                  "### AURA's detection", "", *_detection(t), "### Ablation: what each family of evidence adds", "",
                  "Replayed on the same updates (see bench/grid/ablation.py): the verdict rule over the remaining "
                  "signals only.", "", *_ablation(t), "### Figures", ""]
        lines += [f"![{name}]({name})" for name in figures.get(task, [])] + [""]
    lines += [DESIGN, "", TRIED, "", JSON_LAYOUT, ""]
    return "\n".join(lines)


def write_report(document: dict[str, Any], out: Path, report: Path) -> None:
    """Write the JSON document, the figures next to the report, and the report."""
    out.parent.mkdir(parents=True, exist_ok=True)
    report.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, separators=(",", ":")) + "\n")
    figures = _figures(document, report.parent)
    report.write_text(render(document, figures))

"""A finished run on disk: `summary.json` and the final global model as `model.safetensors`."""

from __future__ import annotations

import json
from pathlib import Path

from fl.config import FederationConfig
from fl.federation import FederationResult, RoundResult
from shared.settings import get_settings
from shared.tensors import dump_arrays, load_arrays, parse_header

SUMMARY = "summary.json"
MODEL = "model.safetensors"


def save_result(result: FederationResult, directory: Path) -> None:
    """Write the run's summary and final model into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MODEL).write_bytes(dump_arrays(result.final_weights))
    (directory / SUMMARY).write_text(json.dumps(result.summary(), indent=1))


def load_result(directory: Path) -> FederationResult:
    """Read what `save_result` wrote."""
    summary = json.loads((directory / SUMMARY).read_text())
    data = (directory / MODEL).read_bytes()
    weights = load_arrays(data, parse_header(data, max_header_bytes=get_settings().max_header_bytes))
    return FederationResult(
        config=FederationConfig.from_dict(summary["config"]), vetted=summary["vetted"],
        initial_metrics=summary["initial_metrics"], rounds=[RoundResult(**r) for r in summary["rounds"]],
        final_weights=weights, seconds=summary["seconds"])

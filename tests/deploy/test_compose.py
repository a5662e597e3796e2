"""docker-compose.yml checked statically: no Docker engine runs here, so the file is read, not run."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from aura.cli import app as cli_app
from shared.celery_app import Queue

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
AURA_SERVICES = {name: s for name, s in SERVICES.items() if s.get("image") == "aura:latest"}


def _option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def _resolve(target: str) -> object:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def test_every_celery_command_points_at_the_real_app_and_real_queues():
    workers = {n: s["command"] for n, s in AURA_SERVICES.items() if s["command"][0] == "celery"}
    consumed = set()
    for command in workers.values():
        assert _resolve(_option(command, "-A")).main == "aura"  # type: ignore[attr-defined]
        queues = set(_option(command, "-Q").split(","))
        assert queues <= {q.value for q in Queue}
        consumed |= queues
    assert consumed == {q.value for q in Queue}, "a queue no service consumes would never drain"


def test_one_service_per_queue_so_each_stage_scales_alone():
    queues = [_option(s["command"], "-Q") for s in AURA_SERVICES.values() if s["command"][0] == "celery"]
    assert sorted(queues) == sorted(q.value for q in Queue)


def test_gateway_command_points_at_the_fastapi_app():
    command = SERVICES["gateway"]["command"]
    assert command[0] == "uvicorn"
    assert type(_resolve(command[1])).__name__ == "FastAPI"


def test_aura_commands_exist_in_the_cli():
    names = {c.name or c.callback.__name__ for c in cli_app.registered_commands}  # type: ignore[union-attr]
    for service in AURA_SERVICES.values():
        if service["command"][0] == "aura":
            assert service["command"][1] in names


def test_services_wait_for_healthy_dependencies_and_the_migration():
    assert SERVICES["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, service in AURA_SERVICES.items():
        if name == "migrate":
            continue
        conditions = {dep: spec["condition"] for dep, spec in service["depends_on"].items()}
        assert conditions == {"migrate": "service_completed_successfully", "redis": "service_healthy"}, name


def test_long_running_services_have_healthchecks():
    for name in ("postgres", "redis", "gateway", "evaluator", "fingerprinter", "detector", "ledger"):
        assert SERVICES[name]["healthcheck"]["test"], name


def test_scalable_services_have_no_fixed_names_or_ports():
    for name in ("evaluator", "fingerprinter", "detector", "ledger"):
        assert "container_name" not in SERVICES[name] and "ports" not in SERVICES[name]


def test_processes_run_distributed_and_share_the_blob_volume():
    for service in AURA_SERVICES.values():
        env = service["environment"]
        assert env["AURA_DATABASE_URL"].startswith("postgresql+psycopg2://")
        assert env["AURA_BROKER_URL"].startswith("redis://")
        assert "aura-data:/data" in service["volumes"]


def test_dockerfile_copies_only_paths_that_exist():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, flags=re.M):
        for path in source.split():
            assert (ROOT / path).exists(), path


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="Debian's docker-compose is not installed")
def test_docker_compose_config_accepts_the_file():
    result = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                            env={**os.environ, "POSTGRES_PASSWORD": "checked-statically"}, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr

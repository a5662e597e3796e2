"""Fixtures of the gateway tests: one recorded round the dashboard API tests read back."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.services.gateway.dashboard_scenario import Scenario, run_scenario


@pytest.fixture(scope="session")
def scenario(gateway: str, worker: subprocess.Popen[bytes]) -> Scenario:
    """Two honest updates and one attack, vetted and recorded (once per test session)."""
    # The root conftest put the session's admin key in the environment before anything was imported.
    return run_scenario(gateway, {"X-API-Key": os.environ["AURA_BOOTSTRAP_OPERATOR_KEY"]})

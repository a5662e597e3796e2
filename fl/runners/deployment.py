"""The deployment runner: a real Flower deployment over loopback.

One `flower-superlink` and one `flower-supernode` per hospital, each its own process, started
`--insecure` on 127.0.0.1 with runtime dependency installation off (the apps come from AURA's
installed `fl` package) and telemetry off; then `flwr run` submits the app in fl/app/ with the
federation as run config. The ServerApp (a SuperLink subprocess) writes the summary and final
model to a results folder, which this runner reads back.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

import fl
from fl.config import RUN_CONFIG_KEY, FederationConfig
from fl.federation import AuraLink, FederationResult
from fl.results import load_result
from fl.server_app import AURA_LINK_KEY, RESULTS_DIR_KEY

APP_DIR = Path(fl.__file__).parent / "app"
CONNECTION = "aura-local"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _toml_string(value: str) -> str:
    # JSON string escapes (\", \\, \n, \uXXXX with ensure_ascii) are all valid TOML basic-string escapes.
    return json.dumps(value, ensure_ascii=True)


class Deployment:
    """A SuperLink and its SuperNodes, started in `workdir` (logs, Flower home, results)."""

    def __init__(self, workdir: Path, hospitals: list[str]) -> None:
        self.workdir = workdir
        self.hospitals = hospitals
        self.port = free_port()
        self.procs: list[subprocess.Popen[bytes]] = []
        bin_dir = str(Path(sys.executable).parent)
        # Telemetry and the update check off: nothing leaves the machine.
        self.env = {**os.environ, "FLWR_TELEMETRY_ENABLED": "0", "FLWR_DISABLE_UPDATE_CHECK": "1",
                    "FLWR_HOME": str(workdir / "flwr-home"),
                    # The SuperLink and SuperNodes start their helpers (flower-superexec, ...) by name.
                    "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
        self.bin = Path(bin_dir)

    def _start(self, name: str, cmd: list[str]) -> None:
        with open(self.workdir / f"{name}.log", "ab") as log:
            self.procs.append(subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                               cwd=self.workdir))

    def start(self, timeout: float = 60.0) -> None:
        """Start the SuperLink, wait for it, then start one SuperNode per hospital."""
        home = self.workdir / "flwr-home"
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.toml").write_text(
            f'[superlink]\ndefault = "{CONNECTION}"\n\n[superlink.{CONNECTION}]\n'
            f'address = "127.0.0.1:{self.port}"\ninsecure = true\n')
        self._start("superlink", [str(self.bin / "flower-superlink"), "--insecure",
                                  "--disable-runtime-dependency-installation", "--host", "127.0.0.1",
                                  "--port", str(self.port)])
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).is_success:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.procs[0].poll() is not None:
                raise RuntimeError(f"the SuperLink did not start; see {self.workdir / 'superlink.log'}")
            time.sleep(0.3)
        for name in self.hospitals:
            self._start(f"supernode-{name}", [str(self.bin / "flower-supernode"), "--insecure",
                                              "--superlink", f"127.0.0.1:{self.port}", "--port", str(free_port()),
                                              "--node-config", f"hospital={_toml_string(name)}"])

    def run(self, config: FederationConfig, aura: AuraLink | None, timeout: float) -> FederationResult:
        """Submit the app with `flwr run` and wait for it; the result the ServerApp wrote."""
        results = self.workdir / "results"
        overrides = {RUN_CONFIG_KEY: config.to_json(), RESULTS_DIR_KEY: str(results), AURA_LINK_KEY: ""}
        if aura is not None:
            link = self.workdir / "aura-link.json"
            aura.save(link)
            overrides[AURA_LINK_KEY] = str(link)
        run_config = self.workdir / "run-config.toml"
        run_config.write_text("".join(f"{k} = {_toml_string(v)}\n" for k, v in overrides.items()))
        with open(self.workdir / "flwr-run.log", "ab") as log:
            subprocess.run([str(self.bin / "flwr"), "run", str(APP_DIR), CONNECTION, "--stream",
                            "--run-config", str(run_config)], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                           cwd=self.workdir, timeout=timeout, check=True)
        if not (results / "summary.json").exists():
            raise RuntimeError(f"the run wrote no result; see {self.workdir / 'flwr-run.log'}")
        return load_result(results)

    def stop(self) -> None:
        """Stop the SuperNodes, then the SuperLink."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def run_deployment(config: FederationConfig, workdir: Path, *, aura: AuraLink | None = None,
                   timeout: float = 900.0) -> FederationResult:
    """Run `config` on a local Flower deployment (SuperLink + one SuperNode per hospital)."""
    workdir.mkdir(parents=True, exist_ok=True)
    deployment = Deployment(workdir, [h.name for h in config.hospitals])
    try:
        deployment.start()
        return deployment.run(config, aura, timeout)
    finally:
        deployment.stop()

"""The federation's ServerApp: run the configured strategy, vetted by AURA when it is linked.

In a deployment everything arrives in the run config: `federation` (FederationConfig as JSON),
`aura-link` (path of an AuraLink JSON file, empty for a plain run) and `results-dir` (where the
summary and the final model are written). The runners that live in this process bind those
values directly instead.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flwr.app import Context
from flwr.serverapp import Grid, ServerApp

from fl.client_app import federation_of
from fl.config import FederationConfig
from fl.federation import AuraLink, FederationResult, Observer, run_federation
from fl.results import save_result
from fl.vetting import Vetter

AURA_LINK_KEY = "aura-link"
RESULTS_DIR_KEY = "results-dir"


def make_server_app(config: FederationConfig | None = None, *, aura: AuraLink | None = None,
                    observer: Observer | None = None,
                    on_result: Callable[[FederationResult], None] | None = None,
                    vetter: Vetter | None = None) -> ServerApp:
    """A ServerApp bound to these values; unbound ones are read from the run config."""
    app = ServerApp()

    @app.main()
    def _main(grid: Grid, context: Context) -> None:
        link = aura
        link_path = str(context.run_config.get(AURA_LINK_KEY, ""))
        if link is None and link_path:
            link = AuraLink.load(Path(link_path))
        result = run_federation(grid, federation_of(context, config), aura=link, observer=observer, vetter=vetter)
        results_dir = str(context.run_config.get(RESULTS_DIR_KEY, ""))
        if results_dir:
            save_result(result, Path(results_dir))
        if on_result is not None:
            on_result(result)

    return app


app = make_server_app()  # what a deployed SuperLink runs (fl/app/pyproject.toml)

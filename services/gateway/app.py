"""The gateway: AURA's only HTTP surface, for hospitals, operators and the dashboard."""

from __future__ import annotations

from fastapi import FastAPI

from services.gateway.dashboard import include_dashboard
from services.gateway.routers import federations, health, hospitals, ledger, receipts, runs, submissions, tasks


def create_app() -> FastAPI:
    """Build the FastAPI app (the dashboard is served at / when it has been built)."""
    app = FastAPI(title="AURA gateway", version="1", description="Vets federated-learning model updates.")
    for module in (health, submissions, receipts, ledger, tasks, federations, hospitals, runs):
        app.include_router(module.router)
    include_dashboard(app)  # last: it mounts the frontend at /, after every API route
    return app


app = create_app()

"""The gateway: AURA's only HTTP surface, for hospitals, operators and the dashboard."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.gateway.routers import health, hospitals, ledger, submissions, tasks
from shared.settings import get_settings


def create_app() -> FastAPI:
    """Build the FastAPI app (the dashboard is served at / when it has been built)."""
    app = FastAPI(title="AURA gateway", version="1", description="Vets federated-learning model updates.")
    for module in (health, submissions, ledger, tasks, hospitals):
        app.include_router(module.router)
    dist = get_settings().frontend_dist
    if (dist / "index.html").exists():
        app.mount("/", StaticFiles(directory=dist, html=True), name="dashboard")
    return app


app = create_app()

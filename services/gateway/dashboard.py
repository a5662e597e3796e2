"""The dashboard's side of the gateway: its read API routers and the built frontend at /."""

from __future__ import annotations

from fastapi import FastAPI

from services.gateway.routers import analytics, datasets, hospital_history, keys, security, stats, workers
from services.gateway.spa import mount_dashboard
from shared.settings import get_settings

ROUTERS = (keys, stats, analytics, security, workers, datasets, hospital_history)


def include_dashboard(app: FastAPI) -> None:
    """Add the dashboard's routers, then mount the built frontend (last: a mount at / matches everything)."""
    for module in ROUTERS:
        app.include_router(module.router)
    mount_dashboard(app, get_settings().frontend_dist)

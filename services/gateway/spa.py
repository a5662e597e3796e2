"""Serving the built dashboard: its files, and index.html for its deep links (/submissions/<id>)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Scope

# Paths that belong to the API or its docs: a miss there is a real 404, never the dashboard.
RESERVED = ("api/", "docs", "redoc", "openapi.json", "metrics")


class DashboardFiles(StaticFiles):
    """Static files whose misses fall back to index.html, so the browser router handles the path."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The file at `path`, or index.html for a client-side route."""
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            last = path.rsplit("/", 1)[-1]
            # A missing asset (a name with an extension) stays a 404, as does anything reserved.
            if exc.status_code != 404 or "." in last or path.startswith(RESERVED):
                raise
            return await super().get_response("index.html", scope)


def mount_dashboard(app: FastAPI, dist: Path) -> None:
    """Serve the dashboard at / when it has been built (after every API route, so it never shadows one)."""
    if (dist / "index.html").exists():
        app.mount("/", DashboardFiles(directory=dist, html=True), name="dashboard")

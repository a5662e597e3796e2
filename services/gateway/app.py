"""The gateway: AURA's only HTTP surface, for hospitals, operators and the dashboard."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from services.gateway.dashboard import include_dashboard
from services.gateway.headers import SecurityHeaders
from services.gateway.routers import federations, health, hospitals, ledger, receipts, runs, submissions, tasks
from shared.settings import get_settings

log = logging.getLogger(__name__)
RETRY_AFTER_S = 5


def create_app() -> FastAPI:
    """Build the FastAPI app (the dashboard is served at / when it has been built)."""
    app = FastAPI(title="AURA gateway", version="1", description="Vets federated-learning model updates.")
    for module in (health, submissions, receipts, ledger, tasks, federations, hospitals, runs):
        app.include_router(module.router)
    include_dashboard(app)  # last: it mounts the frontend at /, after every API route
    app.add_middleware(SecurityHeaders)
    # The client address (failed-auth limits, the Security view) and scheme (HSTS) come from
    # X-Forwarded-For/-Proto only when the peer is a proxy the settings name; uvicorn's own
    # handling, which trusts 127.0.0.1 by default, is switched off (`--no-proxy-headers`).
    trusted = [p.strip() for p in get_settings().trusted_proxies.split(",") if p.strip()]
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(InterfaceError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)  # every connection busy: overloaded, not broken
    return app


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """A database outage (or one too busy to give a connection or a lock) is a known, passing condition:
    503 with Retry-After, never a 500.

    Every write happens in a transaction that the error rolled back, so nothing was stored.
    """
    log.warning("database unavailable for %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)}, content={"detail": {
        "code": "database_unavailable",
        "message": f"AURA's database is unreachable; nothing was stored. Retry in {RETRY_AFTER_S} seconds."}})


app = create_app()

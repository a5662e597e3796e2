"""Federated runs started through the API: start one, follow it, download its model.

A run executes in a child process (`python -m fl.run_worker`), not in a Celery task: it lasts
minutes, may start Flower's Ray engine (which wants a process of its own, not a prefork child),
and waits on the vetting workers for every round, so running it on their pool could starve or
deadlock the very pipeline it needs. A process per run needs no extra queue or worker to deploy;
its state lives in its `runs` row, which it updates after every round.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy import func, select

from services.gateway.auth import require
from services.gateway.deps import SessionDep
from services.gateway.limits import Offset, UuidPath
from services.gateway.schemas.operations import FederatedRunIn, RunOut, RunPage
from shared.blobstore import BlobStore
from shared.models import Role, Run
from shared.settings import get_settings

router = APIRouter(prefix="/api/v1/runs", tags=["runs"], dependencies=[require(Role.OPERATOR, Role.ADMIN)])

# The runs this gateway process started that are still going. A run trains every hospital on this
# machine; unbounded, a burst of requests started dozens at once (found fuzzing: 49 runs and their
# Ray clusters on two cores, which starved the vetting pipeline and the database behind it).
_children: list[subprocess.Popen[bytes]] = []
_children_lock = threading.Lock()


def _federation(body: FederatedRunIn) -> dict[str, Any]:
    """Validate the request as a federation config; 422 with the reason otherwise."""
    import json

    from fl.config import AttackSpec, FederationConfig

    try:
        config = FederationConfig(task=body.task, rounds=body.rounds, local_steps=body.local_steps, seed=body.seed,
                                  split=body.hospitals // 4, strategy=body.strategy,
                                  attacks=tuple(AttackSpec(a.hospital, a.attack, a.params) for a in body.attacks))
    except (ValueError, KeyError, TypeError) as exc:
        raise HTTPException(422, {"code": "invalid_run", "message": str(exc)}) from exc
    result: dict[str, Any] = json.loads(config.to_json())
    return result


@router.post("", response_model=RunOut, status_code=status.HTTP_201_CREATED,
             responses={429: {"description": "as many runs as AURA_MAX_ACTIVE_RUNS are in progress; retry later"}})
def start_run(body: FederatedRunIn, session: SessionDep) -> Run:
    """Start a federated run; it proceeds in the background (follow it with GET /api/v1/runs/{id}).

    The run's hospitals and operator get keys of their own, sent to the gateway at the configured
    public URL (`AURA_PUBLIC_URL`), never to an address taken from this request. At most
    `AURA_MAX_ACTIVE_RUNS` runs proceed at once on each gateway process; another is refused with 429.
    """
    config = {"federation": _federation(body), "vetted": body.vetted, "runner": body.runner}
    settings = get_settings()
    with _children_lock:  # the count and the start are one step, or two requests could both fit
        _children[:] = [child for child in _children if child.poll() is None]  # poll() also reaps the finished
        if len(_children) >= settings.max_active_runs:
            raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, {
                "code": "too_many_runs",
                "message": f"{len(_children)} run(s) in progress, the most this gateway starts at once "
                           "(AURA_MAX_ACTIVE_RUNS): retry when one has finished"}, headers={"Retry-After": "60"})
        row = Run(status="pending", config=config, results={})
        session.add(row)
        session.commit()  # the child reads the row: it must be there before the child starts
        logs = settings.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"run-{row.id}.log", "ab") as out:
            _children.append(subprocess.Popen([sys.executable, "-m", "fl.run_worker", row.id,
                                               settings.resolved_public_url],
                                              stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
    return row


@router.get("", response_model=RunPage)
def list_runs(session: SessionDep, limit: Annotated[int, Query(ge=1, le=200)] = 50,
              offset: Offset = 0) -> RunPage:
    """Runs, newest first, with their progress."""
    total = session.scalar(select(func.count()).select_from(Run)) or 0
    rows = session.scalars(select(Run).order_by(Run.created_at.desc(), Run.id).limit(limit).offset(offset))
    return RunPage(total=total, items=[RunOut.model_validate(r) for r in rows])


@router.get("/{run_id}", response_model=RunOut)
def get_run(run_id: UuidPath, session: SessionDep) -> Run:
    """One run: status, per-round accuracies (with AURA and the plain aggregate) and accepted hospitals."""
    row = session.get(Run, run_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run {run_id}")
    return row


@router.get("/{run_id}/model", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}}, 404: {}, 409: {}})
def get_run_model(run_id: UuidPath, session: SessionDep) -> Response:
    """The run's final global model as safetensors."""
    row = session.get(Run, run_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run {run_id}")
    if row.model_sha256 is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"run {run_id} is {row.status}; it has no model yet")
    return Response(BlobStore().get(row.model_sha256), media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="run-{run_id}.safetensors"',
                             "X-Model-SHA256": row.model_sha256})

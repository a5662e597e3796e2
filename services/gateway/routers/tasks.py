"""Model tasks and their rounds' global models."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, UploadFile, status
from sqlalchemy import select

from services.gateway.auth import PrincipalDep, require
from services.gateway.deps import SessionDep
from services.gateway.schemas import GlobalModelOut, TaskOut
from services.intake.service import read_capped, upload_cap
from services.intake.validation import UploadRejected, validate_update
from shared.models import GlobalModel, Role
from shared.modeltask.registry import tasks
from shared.settings import get_settings
from shared.weights import register_global

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


@router.get("", response_model=list[TaskOut])
def list_tasks(_: PrincipalDep, session: SessionDep) -> list[TaskOut]:
    """The registered tasks, their tensor schemas and open rounds."""
    out = []
    for task in tasks().values():
        rounds = sorted(session.scalars(select(GlobalModel.round).where(GlobalModel.task == task.name)))
        out.append(TaskOut(name=task.name, description=task.description, features=list(task.input_names),
                           tensors=[{"name": t.name, "shape": list(t.shape)} for t in task.schema.tensors],
                           golden_rows=len(task.golden),
                           centres=task.centres, rounds=rounds))
    return out


@router.post("/{task}/rounds/{round_}", response_model=GlobalModelOut, status_code=status.HTTP_201_CREATED,
             dependencies=[require(Role.OPERATOR, Role.ADMIN)])
def open_round(
    task: str, round_: int, session: SessionDep, file: Annotated[UploadFile, File()]
) -> GlobalModel:
    """Open a round by registering the global model it starts from (operators; used by the Flower strategy)."""
    if task not in tasks():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown task {task!r}")
    settings = get_settings()
    cap = upload_cap(tasks()[task], settings)
    try:
        data = read_capped(iter(lambda: file.file.read(65536), b""), cap)
        update = validate_update(data, tasks()[task].schema, max_header_bytes=settings.max_header_bytes,
                                 max_upload_bytes=cap)
        return register_global(session, task, round_, update.arrays)
    except UploadRejected as exc:
        raise HTTPException(422, {"code": exc.code, "message": exc.message}) from exc
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc

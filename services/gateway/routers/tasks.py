"""Model tasks and their rounds' global models."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Response, UploadFile, status

from services.gateway.auth import PrincipalDep, require
from services.gateway.deps import SessionDep
from services.gateway.limits import IdPath, RoundPath
from services.gateway.routers.federations import open_round_from_upload
from services.gateway.schemas import GlobalModelOut, TaskOut
from shared.federations import Scope, rounds_of
from shared.models import GlobalModel, Role
from shared.modeltask.registry import tasks

router = APIRouter(prefix="/api/v1/tasks", tags=["tasks"])


@router.get("", response_model=list[TaskOut])
def list_tasks(_: PrincipalDep, session: SessionDep) -> list[TaskOut]:
    """The registered tasks, their tensor schemas and open rounds."""
    out = []
    for task in tasks().values():
        rounds = rounds_of(session, Scope(task.name, 1))
        out.append(TaskOut(name=task.name, description=task.description, features=list(task.input_names),
                           tensors=[{"name": t.name, "shape": list(t.shape)} for t in task.schema.tensors],
                           golden_rows=len(task.golden),
                           centres=task.centres, rounds=rounds, parameters=task.parameter_count,
                           objective=task.objective.name))
    return out


@router.post("/{task}/rounds/{round_}", response_model=GlobalModelOut, status_code=status.HTTP_201_CREATED,
             responses={200: {}, 404: {}, 409: {}, 422: {}}, dependencies=[require(Role.OPERATOR, Role.ADMIN)])
def open_round(
    task: IdPath, round_: RoundPath, session: SessionDep, response: Response, file: Annotated[UploadFile, File()]
) -> GlobalModel:
    """Open a round of run 1 of the task's default federation (rounds open in order from 1)."""
    if task not in tasks():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"unknown task {task!r}")
    return open_round_from_upload(session, task, Scope(task, 1), round_, file, response)

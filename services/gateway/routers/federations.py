"""Federations, their runs and rounds: the scope every update is vetted in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Response, UploadFile, status
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.detector.calibrate import calibrate
from services.gateway.auth import PrincipalDep, require
from services.gateway.deps import SessionDep
from services.gateway.limits import IdPath, RoundPath
from services.gateway.schemas import (
    CalibrationIn,
    CalibrationOut,
    FederationIn,
    FederationOut,
    FederationPatch,
    FederationRunIn,
    FederationRunOut,
    GlobalModelOut,
)
from services.intake.service import read_capped, upload_cap
from services.intake.validation import UploadRejected, validate_update
from services.ledger.service import append_calibration
from shared.federations import FederationError, Scope, ensure_federation, get_federation, new_run, rounds_of
from shared.models import Calibration, Federation, FederationRun, GlobalModel, Role
from shared.modeltask.registry import tasks
from shared.settings import get_settings
from shared.weights import global_model, register_global

router = APIRouter(prefix="/api/v1/federations", tags=["federations"])
ERROR_STATUS = {"unknown_federation": 404, "unknown_run": 404}


def _fail(exc: FederationError) -> HTTPException:
    return HTTPException(ERROR_STATUS.get(exc.code, 422), {"code": exc.code, "message": exc.message})


def _out(session: Session, federation: Federation) -> FederationOut:
    runs = session.scalars(select(FederationRun).where(FederationRun.federation_id == federation.id)
                           .order_by(FederationRun.run))
    newest = session.scalar(select(Calibration).where(Calibration.federation_id == federation.id)
                            .order_by(Calibration.version.desc()).limit(1))
    return FederationOut(id=federation.id, task=federation.task, name=federation.name, recipe=federation.recipe,
                         calibration=newest.name if newest else None, require_signatures=federation.require_signatures,
                         runs=[FederationRunOut(run=r.run, rounds=rounds_of(session, Scope(federation.id, r.run)),
                                                calibration_rounds=r.calibration_rounds) for r in runs])


@router.get("", response_model=list[FederationOut])
def list_federations(_: PrincipalDep, session: SessionDep) -> list[FederationOut]:
    """Every federation with its runs and their open rounds."""
    return [_out(session, f) for f in session.scalars(select(Federation).order_by(Federation.id))]


@router.post("", response_model=FederationOut, status_code=status.HTTP_201_CREATED,
             responses={409: {}, 422: {}}, dependencies=[require(Role.OPERATOR, Role.ADMIN)])
def create_federation(body: FederationIn, session: SessionDep) -> FederationOut:
    """Create a federation training an installed task; its run 1 starts empty (open round 1 to begin)."""
    if body.task not in tasks():
        raise HTTPException(422, {"code": "unknown_task",
                                  "message": f"unknown task {body.task!r}; known: {', '.join(sorted(tasks()))}"})
    if session.get(Federation, body.id) is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, {"code": "exists", "message": f"federation {body.id!r} exists"})
    federation = ensure_federation(session, body.id, body.task, name=body.name or body.id, recipe=body.recipe,
                                   calibration_rounds=body.calibration_rounds,
                                   require_signatures=body.require_signatures)
    return _out(session, federation)


@router.patch("/{federation_id}", response_model=FederationOut, responses={404: {}},
              dependencies=[require(Role.OPERATOR, Role.ADMIN)])
def change_federation(federation_id: IdPath, body: FederationPatch, session: SessionDep) -> FederationOut:
    """Change a federation's name or whether it requires signed updates (from the next upload on)."""
    try:
        federation = get_federation(session, federation_id)
    except FederationError as exc:
        raise _fail(exc) from exc
    if body.name is not None:
        federation.name = body.name
    if body.require_signatures is not None:
        federation.require_signatures = body.require_signatures
    session.flush()
    return _out(session, federation)


@router.get("/{federation_id}", response_model=FederationOut, responses={404: {}})
def read_federation(federation_id: IdPath, _: PrincipalDep, session: SessionDep) -> FederationOut:
    """One federation with its runs and their open rounds."""
    try:
        return _out(session, get_federation(session, federation_id))
    except FederationError as exc:
        raise _fail(exc) from exc


@router.post("/{federation_id}/runs", response_model=FederationRunOut, status_code=status.HTTP_201_CREATED,
             responses={404: {}}, dependencies=[require(Role.OPERATOR, Role.ADMIN)])
def start_run(federation_id: IdPath, session: SessionDep, body: FederationRunIn | None = None) -> FederationRunOut:
    """Start the federation's next run: its rounds start at 1 and it shares no history with earlier runs."""
    rounds = body.calibration_rounds if body else 0
    try:
        get_federation(session, federation_id)
        return FederationRunOut(run=new_run(session, federation_id, rounds), rounds=[], calibration_rounds=rounds)
    except FederationError as exc:
        raise _fail(exc) from exc


def open_round_from_upload(session: Session, task: str, scope: Scope, round_: int, file: UploadFile,
                           response: Response) -> GlobalModel:
    """Validate an uploaded global model against the task's schema and open `round_` of the run with it."""
    settings = get_settings()
    cap = upload_cap(tasks()[task], settings)
    try:
        data = read_capped(iter(lambda: file.file.read(65536), b""), cap)
        update = validate_update(data, tasks()[task].schema, max_header_bytes=settings.max_header_bytes,
                                 max_upload_bytes=cap)
        existed = global_model(session, scope, round_) is not None
        try:
            row = register_global(session, task, round_, update.arrays, scope=scope)
        except IntegrityError:
            # A concurrent request opened this round first: with its row committed, this one is
            # the same model again (200) or a different one (409), as if it had come second.
            session.rollback()
            existed = True
            row = register_global(session, task, round_, update.arrays, scope=scope)
    except UploadRejected as exc:
        raise HTTPException(422, {"code": exc.code, "message": exc.message}) from exc
    except FederationError as exc:
        raise _fail(exc) from exc
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, {"code": "conflict", "message": str(exc)}) from exc
    if existed:
        response.status_code = status.HTTP_200_OK  # the same model again: nothing new was opened
    return row


@router.post("/{federation_id}/runs/{run}/rounds/{round_}", response_model=GlobalModelOut,
             status_code=status.HTTP_201_CREATED, responses={200: {}, 404: {}, 409: {}, 422: {}},
             dependencies=[require(Role.OPERATOR, Role.ADMIN)])
def open_round(federation_id: IdPath, run: RoundPath, round_: RoundPath, session: SessionDep, response: Response,
               file: Annotated[UploadFile, File(description="the global model the round starts from (safetensors)")]
               ) -> GlobalModel:
    """Open a round of a run with the global model it starts from; rounds open in order from 1."""
    try:
        federation = get_federation(session, federation_id)
        if session.get(FederationRun, (federation_id, run)) is None:
            raise FederationError("unknown_run", f"federation {federation_id!r} has no run {run}")
    except FederationError as exc:
        raise _fail(exc) from exc
    return open_round_from_upload(session, federation.task, Scope(federation_id, run), round_, file, response)


@router.get("/{federation_id}/calibrations", response_model=list[CalibrationOut], responses={404: {}})
def list_calibrations(federation_id: IdPath, _: PrincipalDep, session: SessionDep) -> list[Calibration]:
    """The federation's calibrations, newest first."""
    try:
        get_federation(session, federation_id)
    except FederationError as exc:
        raise _fail(exc) from exc
    return list(session.scalars(select(Calibration).where(Calibration.federation_id == federation_id)
                                .order_by(Calibration.version.desc())))


@router.post("/{federation_id}/calibrations", response_model=CalibrationOut, status_code=status.HTTP_201_CREATED,
             responses={404: {}, 422: {}}, dependencies=[require(Role.OPERATOR, Role.ADMIN)])
def create_calibration(federation_id: IdPath, body: CalibrationIn, session: SessionDep) -> Calibration:
    """Fit the federation's next calibration from rounds of a run whose updates the operator vouches are honest.

    The calibration is recorded in the ledger in the same transaction: an audited event.
    """
    try:
        row = calibrate(session, federation_id, body.run, body.rounds, body.note)
    except FederationError as exc:
        raise _fail(exc) from exc
    append_calibration(session, row)
    return row

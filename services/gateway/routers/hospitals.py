"""Hospitals: their records for operators, registration for admins."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import case, func, select

from services.gateway.auth import PrincipalDep, UnknownCentre, add_hospital, require
from services.gateway.deps import SessionDep
from services.gateway.limits import IdPath
from services.gateway.schemas import HospitalCreated, HospitalIn, HospitalOut
from services.gateway.visibility import may_read
from shared.models import Hospital, Role, Submission, Verdict

router = APIRouter(prefix="/api/v1/hospitals", tags=["hospitals"])


def _records(session: SessionDep, hospital_id: str | None = None) -> list[HospitalOut]:
    counts = (
        select(
            Hospital.id, Hospital.name, Hospital.centre, Hospital.created_at, func.count(Submission.id),
            func.sum(case((Submission.verdict == Verdict.ACCEPTED, 1), else_=0)),
            func.sum(case((Submission.verdict == Verdict.REJECTED, 1), else_=0)),
        )
        .outerjoin(Submission, Submission.hospital_id == Hospital.id)
        .group_by(Hospital.id, Hospital.name, Hospital.centre, Hospital.created_at)
        .order_by(Hospital.id)
    )
    if hospital_id is not None:
        counts = counts.where(Hospital.id == hospital_id)
    return [HospitalOut(id=i, name=n, centre=centre, created_at=c, submissions=s, accepted=a or 0, rejected=r or 0)
            for i, n, centre, c, s, a, r in session.execute(counts)]


@router.get("", response_model=list[HospitalOut])
def list_hospitals(who: PrincipalDep, session: SessionDep) -> list[HospitalOut]:
    """Every hospital with its counts (a hospital key sees itself only)."""
    return _records(session, None if who.reads_all else who.hospital_id)


@router.get("/{hospital_id}", response_model=HospitalOut)
def get_hospital(hospital_id: IdPath, who: PrincipalDep, session: SessionDep) -> HospitalOut:
    """One hospital's record."""
    if not may_read(who, hospital_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no hospital {hospital_id} visible to this key")
    found = _records(session, hospital_id)
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no hospital {hospital_id}")
    return found[0]


@router.post("", response_model=HospitalCreated, status_code=status.HTTP_201_CREATED,
             dependencies=[require(Role.ADMIN)])
def create_hospital(body: HospitalIn, session: SessionDep) -> HospitalCreated:
    """Register a hospital and return its API key (shown once)."""
    try:
        key = add_hospital(session, body.id, body.name, body.centre)
    except UnknownCentre as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    session.flush()
    return HospitalCreated(**_records(session, body.id)[0].model_dump(), api_key=key)

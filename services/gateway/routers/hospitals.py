"""Hospitals: their records for operators, registration (and their signing keys) for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from sqlalchemy import case, func, select

from services.gateway.auth import PrincipalDep, UnknownCentre, add_hospital, require
from services.gateway.deps import SessionDep
from services.gateway.limits import IdPath
from services.gateway.schemas import HospitalCreated, HospitalIn, HospitalOut, SigningKeyIn, SigningKeyOut
from services.gateway.visibility import may_read
from services.intake.signatures import SigningKeyError, register_key, revoke_key
from shared.models import Hospital, Role, SigningKey, Submission, Verdict
from shared.signing import SignatureFormatError

KeyIdPath = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="a signing key's id")]

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


@router.get("/{hospital_id}/signing-keys", response_model=list[SigningKeyOut], responses={404: {}})
def list_signing_keys(hospital_id: IdPath, who: PrincipalDep, session: SessionDep) -> list[SigningKey]:
    """A hospital's registered Ed25519 signing keys, newest first (revoked ones included)."""
    if not may_read(who, hospital_id) or session.get(Hospital, hospital_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no hospital {hospital_id} visible to this key")
    return list(session.scalars(select(SigningKey).where(SigningKey.hospital_id == hospital_id)
                                .order_by(SigningKey.created_at.desc(), SigningKey.id.desc())))


@router.post("/{hospital_id}/signing-keys", response_model=SigningKeyOut, status_code=status.HTTP_201_CREATED,
             responses={404: {}, 409: {}, 422: {}}, dependencies=[require(Role.ADMIN)])
def add_signing_key(hospital_id: IdPath, body: SigningKeyIn, session: SessionDep) -> SigningKey:
    """Register a hospital's Ed25519 public key; its updates signed with the private half are then verified."""
    try:
        return register_key(session, hospital_id, body.public_key)
    except SignatureFormatError as exc:
        raise HTTPException(422, {"code": "bad_public_key", "message": f"public_key: {exc}"}) from exc
    except SigningKeyError as exc:
        code = status.HTTP_404_NOT_FOUND if exc.code == "unknown_hospital" else status.HTTP_409_CONFLICT
        raise HTTPException(code, {"code": exc.code, "message": str(exc)}) from exc


@router.delete("/{hospital_id}/signing-keys/{signing_key}", response_model=SigningKeyOut, responses={404: {}},
               dependencies=[require(Role.ADMIN)])
def revoke_signing_key(hospital_id: IdPath, signing_key: KeyIdPath, session: SessionDep) -> SigningKey:
    """Revoke a signing key (by its id): updates signed with it are refused from the next upload on."""
    try:
        return revoke_key(session, hospital_id, signing_key)
    except SigningKeyError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, {"code": exc.code, "message": str(exc)}) from exc

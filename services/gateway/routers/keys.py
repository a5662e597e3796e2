"""Who am I, and API keys for admins: list, issue and revoke (the dashboard's sign-in and Hospitals view)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select

from services.gateway.auth import PrincipalDep, hash_key, issue_key, require
from services.gateway.deps import SessionDep
from services.gateway.limits import IdQuery, IndexPath
from services.gateway.schemas.operations import KeyIn, KeyIssued, KeyOut, Me
from shared.models import ApiKey, Hospital, Role, utcnow

router = APIRouter(prefix="/api/v1", tags=["keys"])


def _out(row: ApiKey) -> KeyOut:
    return KeyOut(id=row.id, prefix=row.prefix, role=row.role, hospital_id=row.hospital_id,
                  created_at=row.created_at, revoked_at=row.revoked_at, purpose=row.purpose)


@router.get("/me", response_model=Me)
def me(who: PrincipalDep, session: SessionDep) -> Me:
    """The caller's role and hospital."""
    hospital = session.get(Hospital, who.hospital_id) if who.hospital_id else None
    return Me(role=who.role.value, hospital_id=who.hospital_id, hospital_name=hospital.name if hospital else None)


@router.get("/keys", response_model=list[KeyOut], dependencies=[require(Role.ADMIN)])
def list_keys(session: SessionDep, hospital: IdQuery = None) -> list[KeyOut]:
    """Every key (or one hospital's), newest first."""
    query = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    if hospital is not None:
        query = query.where(ApiKey.hospital_id == hospital)
    return [_out(row) for row in session.scalars(query)]


@router.post("/keys", response_model=KeyIssued, status_code=status.HTTP_201_CREATED,
             dependencies=[require(Role.ADMIN)])
def create_key(body: KeyIn, session: SessionDep) -> KeyIssued:
    """Issue a key and return it once."""
    if (body.role == Role.HOSPITAL) != (body.hospital_id is not None):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            "a hospital key needs hospital_id; operator and admin keys take none")
    if body.hospital_id is not None and session.get(Hospital, body.hospital_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no hospital {body.hospital_id}")
    key = issue_key(session, body.role, body.hospital_id)
    session.flush()
    row = session.scalars(select(ApiKey).where(ApiKey.key_sha256 == hash_key(key))).one()
    return KeyIssued(**_out(row).model_dump(), api_key=key)


@router.delete("/keys/{key_id}", response_model=KeyOut, dependencies=[require(Role.ADMIN)])
def revoke_key(key_id: IndexPath, session: SessionDep) -> KeyOut:
    """Revoke a key; it is refused from the next request on. Revoking twice keeps the first time."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no key {key_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    session.flush()
    return _out(row)

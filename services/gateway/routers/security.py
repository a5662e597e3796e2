"""The Security view: requests the gateway refused, by code, hospital and day (operators only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from services.gateway.auth import require
from services.gateway.deps import SessionDep
from services.gateway.insights.numbers import day_of
from shared.models import RefusedUpload, Role

router = APIRouter(prefix="/api/v1/security", tags=["security"],
                   dependencies=[require(Role.OPERATOR, Role.ADMIN)])

# Codes the auth dependency records; every other code is an upload the intake refused.
AUTH_CODES = ("missing_key", "bad_key")


class CodeCount(BaseModel):
    """How often a refusal code occurred."""

    code: str
    count: int
    auth: bool


class RefusalOut(BaseModel):
    """One refused request."""

    id: int
    hospital_id: str | None
    code: str
    message: str
    created_at: datetime


class DailyRefusals(BaseModel):
    """One UTC day's refused uploads and failed authentications."""

    day: str
    uploads: int
    auth: int


class SecuritySummary(BaseModel):
    """Refusals in the window: totals, by code, by hospital, per day, and the latest few."""

    days: int
    refused_uploads: int
    failed_auth: int
    by_code: list[CodeCount]
    by_hospital: dict[str, int]
    daily: list[DailyRefusals]
    recent: list[RefusalOut]


@router.get("/summary", response_model=SecuritySummary)
def security_summary(
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=365)] = 7,
    recent: Annotated[int, Query(ge=0, le=500)] = 50,
) -> SecuritySummary:
    """Refused uploads and failed authentications over the last `days` days."""
    since = datetime.now(UTC) - timedelta(days=days)
    window = RefusedUpload.created_at >= since
    by_code = session.execute(select(RefusedUpload.code, func.count()).where(window)
                              .group_by(RefusedUpload.code).order_by(func.count().desc())).all()
    by_hospital = session.execute(select(RefusedUpload.hospital_id, func.count()).where(
        window, RefusedUpload.hospital_id.is_not(None)).group_by(RefusedUpload.hospital_id)).all()
    daily: dict[str, DailyRefusals] = {}
    for code, created in session.execute(select(RefusedUpload.code, RefusedUpload.created_at).where(window)):
        point = daily.setdefault(day_of(created), DailyRefusals(day=day_of(created), uploads=0, auth=0))
        if code in AUTH_CODES:
            point.auth += 1
        else:
            point.uploads += 1
    latest = session.scalars(select(RefusedUpload).where(window)
                             .order_by(RefusedUpload.created_at.desc(), RefusedUpload.id.desc()).limit(recent))
    return SecuritySummary(
        days=days,
        refused_uploads=sum(n for c, n in by_code if c not in AUTH_CODES),
        failed_auth=sum(n for c, n in by_code if c in AUTH_CODES),
        by_code=[CodeCount(code=c, count=n, auth=c in AUTH_CODES) for c, n in by_code],
        by_hospital={str(h): n for h, n in by_hospital},
        daily=[daily[d] for d in sorted(daily)],
        recent=[RefusalOut(id=r.id, hospital_id=r.hospital_id, code=r.code, message=r.message,
                           created_at=r.created_at) for r in latest],
    )

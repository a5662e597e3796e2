"""The Security view: requests the gateway refused, by code, hospital and day (operators only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from services.gateway.auth import require
from services.gateway.deps import SessionDep
from services.gateway.insights.numbers import day_of
from services.gateway.schemas.operations import CodeCount, DailyRefusals, RefusalOut, SecuritySummary
from services.intake.refusals import AUTH_CODES  # the auth step's codes; every other one is a refused upload
from shared.models import RefusedUpload, Role

router = APIRouter(prefix="/api/v1/security", tags=["security"],
                   dependencies=[require(Role.OPERATOR, Role.ADMIN)])


@router.get("/summary", response_model=SecuritySummary)
def security_summary(
    session: SessionDep,
    days: Annotated[int, Query(ge=1, le=365)] = 7,
    recent: Annotated[int, Query(ge=0, le=500)] = 50,
) -> SecuritySummary:
    """Refused uploads and failed authentications over the last `days` days."""
    since = datetime.now(UTC) - timedelta(days=days)
    window = RefusedUpload.created_at >= since
    total = func.sum(RefusedUpload.count)  # every refusal, repeats included
    by_code = session.execute(select(RefusedUpload.code, total).where(window)
                              .group_by(RefusedUpload.code).order_by(total.desc())).all()
    by_hospital = session.execute(select(RefusedUpload.hospital_id, total).where(
        window, RefusedUpload.hospital_id.is_not(None)).group_by(RefusedUpload.hospital_id)).all()
    daily: dict[str, DailyRefusals] = {}
    for code, created, count in session.execute(select(RefusedUpload.code, RefusedUpload.created_at,
                                                       RefusedUpload.count).where(window)):
        point = daily.setdefault(day_of(created), DailyRefusals(day=day_of(created), uploads=0, auth=0))
        if code in AUTH_CODES:
            point.auth += count
        else:
            point.uploads += count
    latest = session.scalars(select(RefusedUpload).where(window)
                             .order_by(RefusedUpload.created_at.desc(), RefusedUpload.id.desc()).limit(recent))
    return SecuritySummary(
        days=days,
        refused_uploads=int(sum(n for c, n in by_code if c not in AUTH_CODES)),
        failed_auth=int(sum(n for c, n in by_code if c in AUTH_CODES)),
        by_code=[CodeCount(code=c, count=int(n), auth=c in AUTH_CODES) for c, n in by_code],
        by_hospital={str(h): int(n) for h, n in by_hospital},
        daily=[daily[d] for d in sorted(daily)],
        recent=[RefusalOut(id=r.id, hospital_id=r.hospital_id, client=r.client, code=r.code, message=r.message,
                           count=r.count, created_at=r.created_at, last_at=r.last_at) for r in latest],
    )

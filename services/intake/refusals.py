"""The record of refused requests: what the Security view shows, bounded by aggregating repeats.

A repeat of a refusal (the same client, hospital and code) within a minute adds to its row's
count instead of adding a row, so a flood of bad keys or hostile uploads costs one row a minute
per client and code, and the Security view still counts every refusal.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from shared.db import session_scope
from shared.models import RefusedUpload, utcnow

AGGREGATE_S = 60.0
FAILED_AUTH = ("missing_key", "bad_key")  # what the failed-authentication limit counts
AUTH_CODES = (*FAILED_AUTH, "rate_limited")  # every refusal of the authentication step


def record_refusal(hospital_id: str | None, code: str, message: str, client: str | None = None) -> None:
    """Keep a refused request (its own transaction: nothing else is stored)."""
    now = utcnow()
    same_client = RefusedUpload.client.is_(None) if client is None else RefusedUpload.client == client
    same_hospital = RefusedUpload.hospital_id.is_(None) if hospital_id is None else \
        RefusedUpload.hospital_id == hospital_id
    with session_scope() as session:
        added = session.execute(
            update(RefusedUpload)
            .where(RefusedUpload.code == code, RefusedUpload.created_at >= now - timedelta(seconds=AGGREGATE_S),
                   same_client, same_hospital)
            .values(count=RefusedUpload.count + 1, last_at=now, message=message[:2000]))
        if getattr(added, "rowcount", 0) == 0:
            session.add(RefusedUpload(hospital_id=hospital_id, code=code, message=message[:2000], client=client,
                                      created_at=now, last_at=now))


def failures_since(client: str, seconds: float) -> int:
    """Failed authentications of `client` in rows touched within the last `seconds`."""
    with session_scope() as session:
        return int(session.scalar(select(func.coalesce(func.sum(RefusedUpload.count), 0)).where(
            RefusedUpload.client == client, RefusedUpload.code.in_(FAILED_AUTH),
            RefusedUpload.last_at >= utcnow() - timedelta(seconds=seconds))) or 0)

"""What a key may read: every hospital's rows for operators and admins, its own for a hospital."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select

from services.gateway.auth import Principal
from shared.models import Submission

Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def scoped(query: Q, who: Principal) -> Q:
    """Restrict a query over submissions to the caller's hospital unless the caller reads everything."""
    return query if who.reads_all else query.where(Submission.hospital_id == who.hospital_id)

"""Who may read what: the one visibility rule every router and the ledger's reads apply.

Operators and admins read every hospital's rows. A hospital reads its own: its submissions,
their evidence, verdicts, receipts and ledger entries, and its own record. Of the ledger it
also reads what it needs to verify inclusion and consistency, never another hospital's
evidence: every entry's index and hashes, checkpoints, proofs and the log's key; another
hospital's entry is served without its bytes or submission id. Entries that belong to no
hospital (a federation's calibration) are readable by every key.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select

from services.gateway.auth import Principal
from shared.models import Submission

Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def may_read(who: Principal, hospital_id: str | None) -> bool:
    """Whether `who` reads the rows of `hospital_id` (None: rows of no hospital)."""
    return who.reads_all or hospital_id is None or hospital_id == who.hospital_id


def scoped(query: Q, who: Principal) -> Q:
    """Restrict a query over submissions to the rows `who` may read (`may_read`, as SQL)."""
    return query if who.reads_all else query.where(Submission.hospital_id == who.hospital_id)

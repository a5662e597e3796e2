"""The verdict ledger: entries and full verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import func, select

from services.gateway.auth import PrincipalDep
from services.gateway.deps import SessionDep
from services.gateway.schemas import LedgerEntryOut, LedgerPage, VerifyOut
from services.ledger.service import verify
from shared.models import LedgerEntry

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])


def entry_out(row: LedgerEntry) -> LedgerEntryOut:
    """The API form of a ledger row."""
    return LedgerEntryOut(index=row.seq, submission_id=row.submission_id, entry=row.entry.decode(),
                          leaf_hash=row.leaf_hash.hex(), chain_hash=row.chain_hash.hex(), created_at=row.created_at)


@router.get("/entries", response_model=LedgerPage)
def list_entries(
    _: PrincipalDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> LedgerPage:
    """Ledger entries, newest first."""
    total = session.scalar(select(func.count()).select_from(LedgerEntry)) or 0
    rows = session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(limit).offset(offset))
    return LedgerPage(total=total, items=[entry_out(r) for r in rows])


@router.post("/verify", response_model=VerifyOut)
def verify_ledger(_: PrincipalDep, session: SessionDep) -> VerifyOut:
    """Recompute every entry's leaf hash and chain link; name the first entry that fails."""
    report = verify(session)
    return VerifyOut(ok=report.ok, size=report.size, first_bad_index=report.first_bad_index, problem=report.problem)

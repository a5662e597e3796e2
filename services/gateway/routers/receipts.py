"""Receipts: a hospital's proof that its verdict is in the ledger, checkable offline."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from services.gateway.auth import PrincipalDep
from services.gateway.limits import UuidPath
from services.gateway.schemas import ReceiptOut
from services.gateway.visibility import may_read
from services.ledger.checkpoints import SigningRefused
from services.ledger.receipts import build_receipt
from services.ledger.store import MissingNode
from shared.db import session_scope
from shared.models import Submission

router = APIRouter(prefix="/api/v1/submissions", tags=["submissions"])


@router.get("/{submission_id}/receipt", response_model=ReceiptOut, responses={404: {}, 409: {}, 500: {}})
def get_receipt(submission_id: UuidPath, who: PrincipalDep) -> ReceiptOut:
    """The submission's ledger entry, index, inclusion proof and the signed checkpoint it is proved against."""
    # Its own transaction, committed before the response: a checkpoint published for this
    # receipt must be stored (and written to the checkpoint folder) before anyone sees it.
    with session_scope() as session:
        submission = session.get(Submission, submission_id)
        if submission is None or not may_read(who, submission.hospital_id):
            # A foreign submission answers exactly like a missing one: ids are not an oracle.
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no submission {submission_id} visible to this key")
        try:
            receipt = build_receipt(session, submission_id)
        except (SigningRefused, MissingNode) as exc:
            raise HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, f"the ledger cannot prove this entry: {exc}") \
                from exc
    if receipt is None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"submission {submission_id} is not in the ledger yet "
                                                      f"(status {submission.status}); try again once it is recorded")
    return ReceiptOut(**receipt)

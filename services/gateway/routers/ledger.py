"""The verdict ledger: entries, signed checkpoints, the log's key, proofs, and full verification."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import func, select

from services.gateway.auth import Principal, PrincipalDep
from services.gateway.deps import SessionDep
from services.gateway.limits import INT32_MAX, IndexPath, Offset
from services.gateway.schemas import (
    CheckpointOut,
    ConsistencyProofOut,
    InclusionProofOut,
    LedgerEntryOut,
    LedgerPage,
    LedgerStatsOut,
    LogKeyOut,
    VerifyOut,
)
from services.gateway.visibility import may_read
from services.ledger.audit import verify
from services.ledger.checkpoints import latest_checkpoint
from services.ledger.keys import log_config
from services.ledger.store import MissingNode, consistency, inclusion, log_size
from services.ledger.verify_offline import encode_hashes
from shared.models import LedgerCheckpoint, LedgerEntry, LedgerNode, Submission

router = APIRouter(prefix="/api/v1/ledger", tags=["ledger"])


def entry_out(row: LedgerEntry, owner: str | None, who: Principal) -> LedgerEntryOut:
    """The API form of a ledger row; another hospital's entry keeps only its index, hashes and time."""
    if not may_read(who, owner):
        return LedgerEntryOut(index=row.seq, submission_id=None, entry=None, leaf_hash=row.leaf_hash.hex(),
                              chain_hash=row.chain_hash.hex(), created_at=row.created_at)
    return LedgerEntryOut(index=row.seq, submission_id=row.submission_id, entry=row.entry.decode(),
                          leaf_hash=row.leaf_hash.hex(), chain_hash=row.chain_hash.hex(), created_at=row.created_at)


# Each entry with the hospital it belongs to (None: a calibration's), for `entry_out`.
_WITH_OWNER = select(LedgerEntry, Submission.hospital_id).outerjoin(Submission,
                                                                   Submission.id == LedgerEntry.submission_id)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _damaged(exc: MissingNode) -> HTTPException:
    return HTTPException(status.HTTP_500_INTERNAL_SERVER_ERROR, f"the ledger's tree is damaged: {exc}")


def _tree_size(session: SessionDep, size: int | None) -> int:
    """The requested tree size, by default the latest checkpoint's; 404 when the log is smaller."""
    if size is None:
        latest = latest_checkpoint(session)
        if latest is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no checkpoint has been published yet")
        return latest.size
    available = log_size(session)
    if size > available:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"tree size {size} is beyond the log, which has "
                                                       f"{available} entries")
    return size


@router.get("/entries", response_model=LedgerPage)
def list_entries(
    who: PrincipalDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> LedgerPage:
    """Ledger entries, newest first (a hospital key gets other hospitals' entries as hashes only)."""
    total = session.scalar(select(func.count()).select_from(LedgerEntry)) or 0
    rows = session.execute(_WITH_OWNER.order_by(LedgerEntry.seq.desc()).limit(limit).offset(offset))
    return LedgerPage(total=total, items=[entry_out(row, owner, who) for row, owner in rows])


@router.get("/entries/{index}", response_model=LedgerEntryOut, responses={404: {}})
def get_entry(index: IndexPath, who: PrincipalDep, session: SessionDep) -> LedgerEntryOut:
    """One ledger entry by its index (a hospital key gets another hospital's entry as hashes only)."""
    found = session.execute(_WITH_OWNER.where(LedgerEntry.seq == index)).first()
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no entry {index}: the log has {log_size(session)} entries")
    return entry_out(found[0], found[1], who)


@router.get("/checkpoint", response_model=CheckpointOut, responses={404: {}})
def get_checkpoint(_: PrincipalDep, session: SessionDep) -> CheckpointOut:
    """The latest signed checkpoint (C2SP tlog-checkpoint, Ed25519 signed note)."""
    latest = latest_checkpoint(session)
    if latest is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no checkpoint has been published yet")
    return CheckpointOut(origin=log_config().origin, size=latest.size, root_hash=_b64(latest.root_hash),
                         note=latest.note, created_at=latest.created_at)


@router.get("/key", response_model=LogKeyOut)
def get_key(_: PrincipalDep) -> LogKeyOut:
    """The log's origin and public key, for `aura verify --key`."""
    config = log_config()
    return LogKeyOut(origin=config.origin, key_name=config.key_name, vkey=config.vkey)


@router.get("/proofs/inclusion", response_model=InclusionProofOut, responses={400: {}, 404: {}})
def get_inclusion_proof(
    _: PrincipalDep,
    session: SessionDep,
    index: Annotated[int, Query(ge=0, le=INT32_MAX, description="the entry's index")],
    size: Annotated[int | None, Query(ge=1, le=INT32_MAX, description="tree size; default: the latest checkpoint's")]
    = None,
) -> InclusionProofOut:
    """Proof that entry `index` is in the tree of the first `size` entries."""
    tree_size = _tree_size(session, size)
    if index >= tree_size:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"entry {index} is not in a tree of size {tree_size} "
                                                         f"(indexes run from 0 to {tree_size - 1})")
    try:
        proof = inclusion(session, index, tree_size)
    except MissingNode as exc:
        raise _damaged(exc) from exc
    leaf = session.scalar(select(LedgerEntry.leaf_hash).where(LedgerEntry.seq == index))
    if leaf is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"entry {index} is missing from the log")
    note = session.scalar(select(LedgerCheckpoint.note).where(LedgerCheckpoint.size == tree_size))
    return InclusionProofOut(index=index, tree_size=tree_size, leaf_hash=_b64(leaf), proof=encode_hashes(proof),
                             checkpoint=note)


@router.get("/proofs/consistency", response_model=ConsistencyProofOut, responses={400: {}, 404: {}})
def get_consistency_proof(
    _: PrincipalDep,
    session: SessionDep,
    old_size: Annotated[int, Query(alias="from", ge=0, le=INT32_MAX, description="the older tree size")],
    new_size: Annotated[int | None, Query(alias="to", ge=0, le=INT32_MAX,
                                          description="newer size; default: latest checkpoint")]
    = None,
) -> ConsistencyProofOut:
    """Proof that the tree of `to` entries extends the tree of `from` entries."""
    tree_size = _tree_size(session, new_size)
    if old_size > tree_size:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"from ({old_size}) must not exceed to ({tree_size})")
    try:
        proof = consistency(session, old_size, tree_size)
    except MissingNode as exc:
        raise _damaged(exc) from exc
    return ConsistencyProofOut(old_size=old_size, new_size=tree_size, proof=encode_hashes(proof))


@router.get("/stats", response_model=LedgerStatsOut)
def get_stats(_: PrincipalDep, session: SessionDep) -> LedgerStatsOut:
    """Entries, nodes and checkpoints, and how many entries no checkpoint covers yet."""
    size = log_size(session)
    latest = latest_checkpoint(session)
    covered = latest.size if latest else 0
    return LedgerStatsOut(
        origin=log_config().origin, size=size,
        nodes=session.scalar(select(func.count()).select_from(LedgerNode)) or 0,
        checkpoints=session.scalar(select(func.count()).select_from(LedgerCheckpoint)) or 0,
        checkpoint_size=covered, checkpoint_at=latest.created_at if latest else None, uncovered=max(size - covered, 0),
    )


@router.post("/verify", response_model=VerifyOut)
def verify_ledger(_: PrincipalDep, session: SessionDep) -> VerifyOut:
    """Recompute every entry, chain link, Merkle node and signed root; name the first entry that fails."""
    report = verify(session)
    return VerifyOut(ok=report.ok, size=report.size, first_bad_index=report.first_bad_index, problem=report.problem,
                     checkpoint_size=report.checkpoint_size, checkpoints_checked=report.checkpoints_checked)

"""Submitting updates and reading them back (hospitals see only their own)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, HTTPException, Query, Response, UploadFile, status
from sqlalchemy import func, select

from services.gateway.auth import PrincipalDep
from services.gateway.deps import SessionDep
from services.gateway.limits import ID_PATTERN, INT32_MAX, WORD, IdQuery, Offset, UuidPath
from services.gateway.schemas import (
    Decision as DecisionOut,
)
from services.gateway.schemas import (
    EvaluationOut,
    FingerprintOut,
    SubmissionDetail,
    SubmissionPage,
    SubmissionSummary,
)
from services.intake.service import SubmissionConflict, Upload, submit
from services.intake.validation import UploadRejected
from shared.models import Decision, Evaluation, Fingerprint, LedgerEntry, Role, Submission

router = APIRouter(prefix="/api/v1/submissions", tags=["submissions"])

STATUS_FOR_CODE = {"too_large": 413, "pickle_refused": 415, "zip_refused": 415, "unknown_federation": 404,
                   "unknown_run": 404}
CHUNK = 64 * 1024


def _chunks(file: UploadFile):  # type: ignore[no-untyped-def]
    while chunk := file.file.read(CHUNK):
        yield chunk


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubmissionSummary,
             responses={200: {"description": "the same update was already submitted"}, 409: {}, 413: {}, 415: {},
                        422: {}})
def create_submission(
    who: PrincipalDep,
    response: Response,
    file: Annotated[UploadFile, File(description="the update as one safetensors file")],
    round: Annotated[int, Form(ge=1, le=INT32_MAX)],
    task: Annotated[str | None, Form(pattern=ID_PATTERN, max_length=64,
                                     description="the task; with no federation, its default federation")] = None,
    federation: Annotated[str | None, Form(pattern=ID_PATTERN, max_length=64,
                                           description="the federation (its task is implied)")] = None,
    run: Annotated[int | None, Form(ge=1, le=INT32_MAX, description="the federation's run (default: its newest)")]
    = None,
    idempotency_key: Annotated[str | None, Form(pattern=r"^[\x21-\x7e]{1,200}$", max_length=200)] = None,
    num_examples: Annotated[int | None, Form(ge=0, le=INT32_MAX)] = None,
    signature: Annotated[str | None, Form(pattern=r"^[\x21-\x7e]{1,512}$", max_length=512)] = None,
) -> Submission:
    """Submit a model update for vetting in a round of a federation run (hospital keys only)."""
    if who.role != Role.HOSPITAL or who.hospital_id is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a hospital's key can submit updates")
    upload = Upload(hospital_id=who.hospital_id, task=task, round=round, chunks=_chunks(file),
                    idempotency_key=idempotency_key, num_examples=num_examples, signature=signature,
                    federation=federation, run=run)
    try:
        submission, created = submit(upload)
    except UploadRejected as exc:
        raise HTTPException(STATUS_FOR_CODE.get(exc.code, 422), {"code": exc.code, "message": exc.message}) from exc
    except SubmissionConflict as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, {"code": "conflict", "message": str(exc)}) from exc
    if not created:
        response.status_code = status.HTTP_200_OK
    return submission


@router.get("", response_model=SubmissionPage)
def list_submissions(
    who: PrincipalDep,
    session: SessionDep,
    hospital: IdQuery = None,
    task: IdQuery = None,
    round: Annotated[int | None, Query(ge=1, le=INT32_MAX)] = None,
    verdict: Annotated[str | None, Query(pattern=WORD, max_length=32)] = None,
    status_: Annotated[str | None, Query(alias="status", pattern=WORD, max_length=32)] = None,
    sort: Literal["created_at", "-created_at", "round", "-round", "hospital_id", "-hospital_id"] = "-created_at",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> SubmissionPage:
    """Submissions, newest first by default; a hospital key sees only its own."""
    query = select(Submission)
    if not who.reads_all:
        query = query.where(Submission.hospital_id == who.hospital_id)
    for column, value in ((Submission.hospital_id, hospital), (Submission.task, task), (Submission.round, round),
                          (Submission.verdict, verdict), (Submission.status, status_)):
        if value is not None:
            query = query.where(column == value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    column = getattr(Submission, sort.lstrip("-"))
    query = query.order_by(column.desc() if sort.startswith("-") else column, Submission.id)
    rows = session.scalars(query.limit(limit).offset(offset)).all()
    return SubmissionPage(total=total, items=[SubmissionSummary.model_validate(r) for r in rows])


@router.get("/{submission_id}", response_model=SubmissionDetail)
def get_submission(submission_id: UuidPath, who: PrincipalDep, session: SessionDep) -> SubmissionDetail:
    """One submission with its status, verdict, reasons and evidence."""
    submission = session.get(Submission, submission_id)
    if submission is None or (not who.reads_all and submission.hospital_id != who.hospital_id):
        # A foreign submission answers exactly like a missing one: ids are not an oracle.
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no submission {submission_id} visible to this key")
    evaluation = session.get(Evaluation, submission_id)
    fingerprint = session.get(Fingerprint, submission_id)
    decision = session.get(Decision, submission_id)
    ledger_index = session.scalar(select(LedgerEntry.seq).where(LedgerEntry.submission_id == submission_id))
    summary = SubmissionSummary.model_validate(submission).model_dump()
    return SubmissionDetail(
        **summary,
        last_error=submission.last_error,
        evaluation=EvaluationOut(update_metrics=evaluation.update_metrics, global_metrics=evaluation.global_metrics)
        if evaluation else None,
        fingerprint=FingerprintOut(method=fingerprint.method, features=fingerprint.features,
                                   attribution=fingerprint.attribution, attribution_abs=fingerprint.attribution_abs,
                                   reference=fingerprint.reference, peer_reference=fingerprint.peer_reference)
        if fingerprint else None,
        decision=DecisionOut(verdict=decision.verdict, score=decision.score, threshold=decision.threshold,
                             reasons=decision.reasons, features=decision.features,
                             calibration=decision.calibration) if decision else None,
        ledger_index=ledger_index,
    )

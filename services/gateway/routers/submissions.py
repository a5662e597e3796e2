"""Submitting updates and reading them back (hospitals see only their own)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Header, HTTPException, Query, Response, UploadFile, status
from sqlalchemy import func, select
from sqlalchemy.orm import Session

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
from services.gateway.visibility import may_read, scoped
from services.intake.idempotency import BadIdempotencyKey, Claim, claim, fingerprint, finish, parse_header, release
from services.intake.service import SubmissionConflict, Upload, submit
from services.intake.validation import UploadRejected
from shared.models import Decision, Evaluation, Fingerprint, LedgerEntry, Role, Submission
from shared.signing import HEADER, SignatureFormatError
from shared.signing import parse_header as parse_signature

router = APIRouter(prefix="/api/v1/submissions", tags=["submissions"])

STATUS_FOR_CODE = {"too_large": 413, "pickle_refused": 415, "zip_refused": 415, "unknown_federation": 404,
                   "unknown_run": 404, "signature_required": 403, "unknown_signing_key": 403,
                   "revoked_signing_key": 403, "stale_signature": 403, "bad_signature": 403,
                   "replayed_signature": 403}
CHUNK = 64 * 1024


def _chunks(file: UploadFile) -> Iterator[bytes]:
    while chunk := file.file.read(CHUNK):
        yield chunk


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubmissionSummary,
             responses={200: {"description": "the same update was already submitted"},
                        202: {"description": "stored; the broker is unreachable, so it is sent for vetting when it is "
                                             "back (no need to send it again)"},
                        403: {"description": "not a hospital's key, or the update's signature is missing (where "
                                             "the federation requires one), unknown, stale, replayed or wrong"},
                        409: {}, 413: {}, 415: {}, 422: {},
                        503: {"description": "the database is unreachable: nothing was stored; retry after "
                                             "Retry-After seconds"}})
def create_submission(
    who: PrincipalDep,
    session: SessionDep,
    response: Response,
    file: Annotated[UploadFile, File(description="the update as one safetensors file")],
    round: Annotated[int, Form(ge=1, le=INT32_MAX)],
    task: Annotated[str | None, Form(pattern=ID_PATTERN, max_length=64,
                                     description="the task; with no federation, its default federation")] = None,
    federation: Annotated[str | None, Form(pattern=ID_PATTERN, max_length=64,
                                           description="the federation (its task is implied)")] = None,
    run: Annotated[int | None, Form(ge=1, le=INT32_MAX, description="the federation's run (default: its newest)")]
    = None,
    num_examples: Annotated[int | None, Form(ge=0, le=INT32_MAX)] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=512, description=(
        'a key of your own, e.g. "8e03978e-40d5-43e8-bc93-6894a57f9324": the same key and request again returns '
        "the first response; with another request, 422; while the first is in flight, 409"))] = None,
    aura_signature: Annotated[str | None, Header(alias=HEADER, max_length=400, description=(
        "the hospital's Ed25519 signature of this update: key=<key id>; created=<Unix seconds>; nonce=<nonce>; "
        "sig=<base64url> (shared/signing.py says what is signed); required where the federation says so"))] = None,
) -> Submission:
    """Submit a model update for vetting in a round of a federation run (hospital keys only)."""
    if who.role != Role.HOSPITAL or who.hospital_id is None:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only a hospital's key can submit updates")
    try:
        signature = None if aura_signature is None else parse_signature(aura_signature)
    except SignatureFormatError as exc:
        raise HTTPException(422, {"code": "bad_signature_header", "message": f"{HEADER}: {exc}"}) from exc
    # The signature is not part of what the request asks for: a retry signed afresh is the same request.
    fields = {"task": task, "federation": federation, "run": run, "round": round, "num_examples": num_examples}
    key = None
    if idempotency_key is not None:
        try:
            key = parse_header(idempotency_key)
        except BadIdempotencyKey as exc:
            raise HTTPException(422, {"code": "bad_idempotency_key", "message": str(exc)}) from exc
        held = claim(who.hospital_id, key)
        if not held.new:
            return _replay(session, response, held, fingerprint(_sha256(file), fields))
    digest = hashlib.sha256()
    upload = Upload(hospital_id=who.hospital_id, task=task, round=round, chunks=_hashed(_chunks(file), digest),
                    idempotency_key=key, num_examples=num_examples, signature=signature,
                    federation=federation, run=run)
    try:
        submitted = submit(upload)
    except (UploadRejected, SubmissionConflict) as exc:
        if key is not None:
            release(who.hospital_id, key)
        if isinstance(exc, SubmissionConflict):
            raise HTTPException(status.HTTP_409_CONFLICT, {"code": "conflict", "message": str(exc)}) from exc
        raise HTTPException(STATUS_FOR_CODE.get(exc.code, 422), {"code": exc.code, "message": exc.message}) from exc
    except BaseException:
        if key is not None:
            release(who.hospital_id, key)
        raise
    submission = submitted.submission
    if not submitted.created:
        response.status_code = status.HTTP_200_OK
    elif not submitted.sent:  # stored, and the sweeper will send it when the broker is back
        response.status_code = status.HTTP_202_ACCEPTED
    if key is not None:
        finish(who.hospital_id, key, fingerprint(digest.hexdigest(), fields), submission.id,
               response.status_code or status.HTTP_201_CREATED)
    return submission


def _hashed(chunks: Iterator[bytes], digest: Any) -> Iterator[bytes]:
    for chunk in chunks:
        digest.update(chunk)
        yield chunk


def _sha256(file: UploadFile) -> str:
    digest = hashlib.sha256()
    for chunk in _chunks(file):
        digest.update(chunk)
    return digest.hexdigest()


def _replay(session: Session, response: Response, held: Claim, print_: str) -> Submission:
    """The answer to a request whose Idempotency-Key another request holds or has used."""
    if held.in_flight:
        raise HTTPException(status.HTTP_409_CONFLICT, {
            "code": "idempotency_key_in_flight",
            "message": "a request with this Idempotency-Key is still being processed; retry when it has finished"},
            headers={"Retry-After": "1"})
    if held.fingerprint != print_:
        raise HTTPException(422, {
            "code": "idempotency_key_reused",
            "message": "this Idempotency-Key was used for a different request (another file, round, run, federation "
                       "or task); use a new key for a new request"})
    submission = session.get(Submission, held.submission_id)
    assert submission is not None  # the key's row references it
    response.status_code = held.status_code or status.HTTP_201_CREATED
    response.headers["Idempotent-Replayed"] = "true"
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
    query = scoped(select(Submission), who)
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
    if submission is None or not may_read(who, submission.hospital_id):
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

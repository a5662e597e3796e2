"""Intake: read the upload under a hard cap, validate it, store it, record it, then enqueue it.

Order matters: nothing is written before validation passes, and the vetting chain is sent only
after the submission's row has committed, so a worker never looks for a row that is not there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.intake import signatures
from services.intake.refusals import record_refusal
from services.intake.validation import UploadRejected, ValidatedUpdate, validate_update
from shared.blobstore import BlobStore
from shared.celery_app import vetting_chain
from shared.db import read_scope, session_scope
from shared.federations import FederationError, Resolved, Scope, resolve, rounds_of
from shared.models import Federation, Submission, utcnow
from shared.modeltask.registry import tasks
from shared.modeltask.task import Task
from shared.settings import Settings, get_settings
from shared.signing import SignatureHeader, Signed
from shared.weights import global_model

log = logging.getLogger(__name__)


class SubmissionConflict(Exception):
    """A different update for a (hospital, federation run, round) that already has one."""

    def __init__(self, existing: Submission) -> None:
        super().__init__(
            f"hospital {existing.hospital_id!r} already submitted a different update for round "
            f"{existing.round} of {existing.federation} run {existing.run} (submission {existing.id}, "
            f"status {existing.status})"
        )
        self.existing = existing


@dataclass(frozen=True)
class Upload:
    """What a hospital sent, before any check."""

    hospital_id: str
    task: str | None  # None when a federation is named (its task is then the one)
    round: int
    chunks: Iterable[bytes]
    idempotency_key: str | None = None
    num_examples: int | None = None
    signature: SignatureHeader | None = None  # the parsed Aura-Signature header, checked at intake
    federation: str | None = None  # None: the task's default federation
    run: int | None = None  # None: the federation's newest run


def read_capped(chunks: Iterable[bytes], cap: int) -> bytes:
    """Join the upload's chunks, refusing as soon as it passes `cap` bytes (never buffers more)."""
    parts, total = [], 0
    for chunk in chunks:
        total += len(chunk)
        if total > cap:
            raise UploadRejected("too_large", f"the upload is larger than the limit of {cap} bytes")
        parts.append(chunk)
    return b"".join(parts)


def upload_cap(task: Task, settings: Settings) -> int:
    """The largest upload accepted for `task`: the setting, or more when the task's float32 update needs it."""
    return max(settings.max_upload_bytes, 4 * task.schema.numel + settings.max_header_bytes)


def _check_round(session: Session, scope: Scope, round_: int) -> None:
    if global_model(session, scope, round_) is None:
        rounds = rounds_of(session, scope)
        open_rounds = f"{rounds[0]}-{rounds[-1]}" if rounds else "none"
        raise UploadRejected("unknown_round", f"round {round_} of {scope} is not open (open rounds: {open_rounds})")


def _existing(session: Session, upload: Upload, scope: Scope) -> Submission | None:
    return session.scalar(select(Submission).where(
        Submission.hospital_id == upload.hospital_id, Submission.federation == scope.federation,
        Submission.run == scope.run, Submission.round == upload.round))


def _task_name(upload: Upload) -> str:
    """The task an upload is for, known before its body is read: named, and the federation's (one read, if named)."""
    if upload.federation is None:
        if upload.task is None:
            raise UploadRejected("missing_scope", "name a federation (or a task, for its default federation)")
        return upload.task
    with read_scope() as connection:
        task = connection.scalar(select(Federation.task).where(Federation.id == upload.federation))
    if task is None:
        raise UploadRejected("unknown_federation", f"no federation {upload.federation!r}")
    if upload.task is not None and upload.task != task:
        raise UploadRejected("task_mismatch", f"federation {upload.federation!r} trains {task}, not {upload.task}")
    return str(task)


@dataclass(frozen=True)
class Submitted:
    """What became of an upload: its row, whether this request created it, and whether it was sent."""

    submission: Submission
    created: bool
    sent: bool  # False: the broker refused the send; the committed row is the outbox the sweeper sends from


def submit(upload: Upload) -> Submitted:
    """Validate, record and enqueue an upload."""
    submission, created = record(upload)
    if not created:
        return Submitted(submission, created=False, sent=True)
    # After the commit: the chain carries only the id. If this send fails or is lost, the
    # sweeper finds the queued row and sends it again, so a broker outage loses nothing.
    try:
        vetting_chain(submission.id).apply_async()
    except Exception as exc:  # kombu's errors differ by transport; any refusal leaves the outbox row to the sweeper
        log.warning("broker refused submission %s (%s); the sweeper will send it", submission.id, exc)
        return Submitted(submission, created=True, sent=False)
    return Submitted(submission, created=True, sent=True)


def record(upload: Upload) -> tuple[Submission, bool]:
    """Validate and store an upload, committed, without enqueueing it. Raises UploadRejected or SubmissionConflict."""
    settings = get_settings()
    try:
        task_name = _task_name(upload)
        if task_name not in tasks():
            raise UploadRejected("unknown_task", f"unknown task {task_name!r}; known: {', '.join(sorted(tasks()))}")
        task = tasks()[task_name]
        cap = upload_cap(task, settings)
        data = read_capped(upload.chunks, cap)
        update = validate_update(data, task.schema, max_header_bytes=settings.max_header_bytes, max_upload_bytes=cap)
        with session_scope() as session:
            try:
                resolved = resolve(session, task=task_name, federation=upload.federation, run=upload.run)
            except FederationError as exc:
                raise UploadRejected(exc.code, exc.message) from exc
            scope = resolved.scope
            _check_round(session, scope, upload.round)
            signature = _check_signature(session, upload, resolved, update.file_sha256, settings)
            return _insert(session, upload, task_name, scope, update, data, signature), True
    except UploadRejected as exc:
        record_refusal(upload.hospital_id, exc.code, exc.message)
        raise
    except IntegrityError as exc:
        # The round already holds an update of this hospital: sent again, or a concurrent upload
        # won the race. Inserting first and looking only then saves a query on every new update.
        return _already_submitted(upload, scope, update.tensor_sha256, exc)


def _check_signature(session: Session, upload: Upload, resolved: Resolved, sha256: str, settings: Settings) \
        -> str | None:
    header = upload.signature
    signed = None if header is None else Signed(
        hospital=upload.hospital_id, federation=upload.federation, task=upload.task, run=upload.run,
        round=upload.round, sha256=sha256, signed_at=header.signed_at, nonce=header.nonce)
    return signatures.check(session, header, signed, required=resolved.require_signatures,
                            federation=resolved.scope.federation, max_skew_s=settings.signature_max_skew_s,
                            now=utcnow())


def _insert(session: Session, upload: Upload, task: str, scope: Scope, update: ValidatedUpdate,
            data: bytes, signature: str | None) -> Submission:
    submission = Submission(
        hospital_id=upload.hospital_id, task=task, federation=scope.federation, run=scope.run, round=upload.round,
        file_sha256=update.file_sha256, tensor_sha256=update.tensor_sha256, size_bytes=len(data),
        idempotency_key=upload.idempotency_key, num_examples=upload.num_examples, signature=signature,
    )
    session.add(submission)
    session.flush()  # the unique (hospital, federation, run, round) check, before the blob is written
    BlobStore().put(data)  # before the commit, so no worker sees a row without its blob; content-addressed
    return submission


def _already_submitted(upload: Upload, scope: Scope, tensor_sha256: str,
                       error: IntegrityError) -> tuple[Submission, bool]:
    with session_scope() as session:
        existing = _existing(session, upload, scope)
    if existing is None:
        raise error  # not the round's uniqueness: a real integrity problem
    if existing.tensor_sha256 == tensor_sha256:
        return existing, False  # the same update again: idempotent
    record_refusal(upload.hospital_id, "conflict", "a different update for a round already submitted")
    raise SubmissionConflict(existing)

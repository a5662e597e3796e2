"""The Idempotency-Key header on submissions (draft-ietf-httpapi-idempotency-key-header-07).

A hospital may send `Idempotency-Key: "<key>"` with an upload. The key is its own (keys are
scoped per hospital) and is bound for good to the first request that completes with it:
- the same key with the same request again returns that request's response (status and the
  submission as it is now), marked `Idempotent-Replayed: true`;
- the same key with a different request (another file, round, run, federation or task) is
  refused with 422;
- the same key while the first request is still being processed is refused with 409 and
  Retry-After; a claim older than `IN_FLIGHT_S` is taken as abandoned (its process died).
A request that is refused (4xx) does not consume its key: the client corrects it and retries.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from shared.db import session_scope
from shared.models import IdempotencyKey, as_utc, utcnow

IN_FLIGHT_S = 3600.0  # longer than any upload takes, so a live request is never taken over
# RFC 8941 sf-string: printable ASCII in double quotes, `\\` and `\"` escaped. A bare token is
# accepted too (many clients send one). Either way the key is 1-200 printable characters.
_STRING = re.compile(r'^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$')
_BARE = re.compile(r"^[\x21\x23-\x7e]+$")


class BadIdempotencyKey(ValueError):
    """The header is not a structured-field string (or bare token) of 1-200 printable characters."""


def parse_header(value: str) -> str:
    """The key an Idempotency-Key header carries; BadIdempotencyKey when it is malformed."""
    value = value.strip()
    quoted = _STRING.match(value)
    key = re.sub(r'\\(["\\])', r"\1", quoted.group(1)) if quoted else value if _BARE.match(value) else None
    if not key or len(key) > 200:
        raise BadIdempotencyKey('Idempotency-Key must be a quoted string of 1-200 printable ASCII characters, '
                                'e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"')
    return key


def fingerprint(file_sha256: str, fields: Mapping[str, object]) -> str:
    """What makes two requests the same: the file's digest and every form field."""
    return hashlib.sha256(json.dumps({"file": file_sha256, **fields}, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """The state of a key when a request came with it."""

    new: bool  # this request claimed it and goes ahead
    in_flight: bool = False  # another request holds it
    fingerprint: str | None = None  # the finished request's
    submission_id: str | None = None
    status_code: int | None = None


def claim(hospital_id: str, key: str) -> Claim:
    """Claim the key for this request (committed at once, so a concurrent request sees it), or say who has it."""
    try:
        with session_scope() as session:
            session.add(IdempotencyKey(hospital_id=hospital_id, key=key))
        return Claim(new=True)
    except IntegrityError:
        pass
    with session_scope() as session:
        row = session.get(IdempotencyKey, (hospital_id, key))
        if row is None:  # released in between: try once more
            session.add(IdempotencyKey(hospital_id=hospital_id, key=key))
            return Claim(new=True)
        if row.finished_at is not None:
            return Claim(new=False, fingerprint=row.fingerprint, submission_id=row.submission_id,
                         status_code=row.status_code)
        if as_utc(row.claimed_at) < utcnow() - timedelta(seconds=IN_FLIGHT_S):  # abandoned
            taken = session.execute(update(IdempotencyKey).where(
                IdempotencyKey.hospital_id == hospital_id, IdempotencyKey.key == key,
                IdempotencyKey.claimed_at == row.claimed_at, IdempotencyKey.finished_at.is_(None))
                .values(claimed_at=utcnow()))
            if getattr(taken, "rowcount", 0) == 1:
                return Claim(new=True)
        return Claim(new=False, in_flight=True)


def finish(hospital_id: str, key: str, print_: str, submission_id: str, status_code: int) -> None:
    """Bind the key to what its request did."""
    with session_scope() as session:
        session.execute(update(IdempotencyKey).where(
            IdempotencyKey.hospital_id == hospital_id, IdempotencyKey.key == key)
            .values(fingerprint=print_, submission_id=submission_id, status_code=status_code, finished_at=utcnow()))


def release(hospital_id: str, key: str) -> None:
    """Give the key back: its request was refused, so a corrected retry may use it."""
    with session_scope() as session:
        session.execute(delete(IdempotencyKey).where(
            IdempotencyKey.hospital_id == hospital_id, IdempotencyKey.key == key,
            IdempotencyKey.finished_at.is_(None)))
